-- Each shop's product page and image URL templates (`{id}` = the item id), filled into every
-- answer for items whose catalog row has no URL. NULL: the server's PRODUCT_URL_TEMPLATE /
-- IMAGE_URL_TEMPLATE.
ALTER TABLE tenants ADD COLUMN product_url_template text, ADD COLUMN image_url_template text;
