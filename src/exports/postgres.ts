/** `smsflow/postgres`: PostgreSQL storage (pg), with migrate(). */
export { type PostgresStorageOptions, postgresStorage } from '../adapters/storage/postgres.js';
