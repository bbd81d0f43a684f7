// Every raw SQL statement keygate runs, one file per area, each a named function that takes the
// Sql interface (../sql.ts) as its first argument. Prisma's own queries stay where they are used.
export * from './api-keys.ts';
export * from './change-log.ts';
export * from './deployments.ts';
export * from './migrations.ts';
export * from './snapshot.ts';
export * from './usage.ts';
