-- Knotwork on PostgreSQL: two roles.
--   owner  owns the tables and runs the migrations (`flask db upgrade`); nothing else connects as it.
--   app    is what gunicorn connects as: it reads and writes the records, but may only read and append to the
--          audit log (no UPDATE, DELETE or TRUNCATE; not the owner, so it cannot ALTER the table, drop or
--          disable its triggers).
--
-- Run as a superuser (or a role with CREATEROLE that owns the database), connected to the app's database,
-- after `flask db upgrade` and again after each upgrade that adds tables:
--
--   psql -v ON_ERROR_STOP=1 -v owner=knotwork_owner -v app=knotwork_app -v app_password='...' \
--        -d knotwork -f deploy/postgres_roles.sql
--
-- The owner role must exist and own the database's tables (create it and the database first, e.g.
-- `createuser knotwork_owner && createdb -O knotwork_owner knotwork`, then run the migrations as it).
-- Safe to run again: it makes the app role only when missing and sets its rights afresh.

\set ON_ERROR_STOP on

SELECT format('CREATE ROLE %I LOGIN PASSWORD %L', :'app', :'app_password')
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'app')
\gexec

-- Never the owner, never a superuser, and nothing it did not get here.
ALTER ROLE :"app" NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS NOINHERIT;
SELECT format('GRANT CONNECT ON DATABASE %I TO %I', current_database(), :'app') \gexec
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM :"app";
GRANT USAGE ON SCHEMA public TO :"app";

-- The records: read and write.
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO :"app";
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO :"app";

-- The audit log: read and append only. The chain's lock is an advisory lock, which needs no grant.
REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON audit_events FROM :"app";
REVOKE INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON audit_chain_start FROM :"app";
-- The schema's version is the migrations' business.
REVOKE INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON alembic_version FROM :"app";

-- Tables that later migrations (run as the owner) create get the same record rights; rerun this file after an
-- upgrade anyway, so that a new table that must be append-only is made so here.
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO :"app";
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO :"app";
