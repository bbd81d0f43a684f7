-- Access-token names are unique per project (issue 15, finding 6): a global unique name let a
-- project token learn other projects' token names from CONFLICT answers.

-- DropIndex
DROP INDEX "access_tokens_name_key";

-- CreateIndex
CREATE UNIQUE INDEX "access_tokens_project_id_name_key" ON "access_tokens"("project_id", "name");

-- Admin tokens (project_id NULL) are unique among themselves. Written by hand: Prisma's schema
-- cannot express a partial index (see the AccessToken model).
CREATE UNIQUE INDEX "access_tokens_admin_name_key" ON "access_tokens"("name") WHERE "project_id" IS NULL;
