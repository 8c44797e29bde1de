//! Integration tests against a real PostgreSQL: each test gets a fresh database.

mod helpers;

mod apify;
mod assets;
mod auth;
mod cloning;
mod collections;
mod engine;
mod events;
mod faults;
mod fuzz;
mod hardening;
mod health;
mod idempotency;
mod jobs;
mod mcp;
mod media;
mod openapi;
mod options;
mod platforms;
mod projects;
mod publishing;
mod queue;
mod render;
mod retired;
mod rewrite;
mod runs;
mod s3;
mod stock;
mod tenancy;
mod transcribe;
mod usage;
mod validation;
mod voice;
mod watch;
mod web;
