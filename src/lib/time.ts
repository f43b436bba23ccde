// Lengths of a day, in the two units the code counts time in (Unix seconds in the models and
// the jobs, Unix milliseconds in requests and Redis).
export const SECONDS_PER_DAY = 86_400;
export const DAY_MS = SECONDS_PER_DAY * 1000;
