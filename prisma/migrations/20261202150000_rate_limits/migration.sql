-- Rate limits per key (docs/api.md, "Rate limits"): null means no limit of that kind.
ALTER TABLE "api_keys" ADD COLUMN "rate_limit_requests" INTEGER,
ADD COLUMN "rate_limit_tokens" INTEGER;
