// Configuration for the Prisma CLI, a development tool only: keygate itself applies the committed
// migrations (`keygate migrate`) and never runs the CLI. Authoring a migration is described in README.
import { defineConfig } from 'prisma/config';

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: {
    url: process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/keygate_dev',
    shadowDatabaseUrl: process.env.SHADOW_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/keygate_shadow',
  },
});
