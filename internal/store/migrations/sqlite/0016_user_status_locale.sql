-- Users now keep a status column (active, or deleted: a deleted user stays
-- for the subscriptions that embed it, out of lists and with its e-mail
-- free), and preferredLocale is never null (the public user schema types it
-- string): give the users stored before both. The bodies are compact JSON
-- written by Switchboard, so the literal below matches only the field.
UPDATE resources SET status = 'active' WHERE kind = 'user' AND status = '';
UPDATE resources SET body = replace(body, '"preferredLocale":null', '"preferredLocale":"en-US"') WHERE kind = 'user';
