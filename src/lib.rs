//! reelforge: repurpose trending Instagram Reels as a REST/OpenAPI service with durable jobs and
//! server-sent events.

pub mod auth;
pub mod collections;
pub mod config;
pub mod db;
pub mod doctor;
pub mod domain;
pub mod engines;
pub mod error;
pub mod error_code;
pub mod events;
pub mod idempotency;
pub mod jobs;
pub mod media;
pub mod metrics;
pub mod openapi;
pub mod pagination;
pub mod providers;
pub mod redact;
pub mod routes;
pub mod script;
pub mod startup;
pub mod state;
pub mod steps;
pub mod telemetry;
