//! HTTP: the routes, the OpenAPI document, MCP, the page, the auth extractors and `ApiError`'s
//! problem+json. Besides the binary, the only crate that knows actix-web; it turns the app's
//! errors into answers.

pub mod auth;
pub mod error;
pub mod idempotency;
pub mod limit;
pub mod mcp;
pub mod openapi;
pub mod request_line;
pub mod routes;
pub mod sse;
pub mod track;

use reelforge_app::{
    access, assets, collections, dataset, jobs, projects, publish, rate_limit, reels, state, steps,
    voices, watch, workspaces,
};
use reelforge_media as media;
use reelforge_providers::{self as providers, engines};
use reelforge_store::{db, events};
use reelforge_vocab::{domain, error_code, pagination, redact, signed};
