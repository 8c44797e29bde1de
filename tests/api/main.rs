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
mod graph;
mod hardening;
mod health;
mod idempotency;
mod instagram;
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
mod rewrite;
mod runs;
mod s3;
mod stock;
mod transcribe;
mod usage;
mod validation;
mod voice;
mod watch;
mod web;
