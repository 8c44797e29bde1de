use crate::error::AppError;
use crate::error_code::ErrorCode;
use actix_web::{get, web, HttpRequest, HttpResponse};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use super::Data;
use crate::{
    auth::Caller,
    db::events::EventFilter,
    error::{ApiError, Problem},
    sse::EventStream,
};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventQuery {
    /// Only events of this project.
    pub project_id: Option<Uuid>,
    /// Resume after this event id; the `Last-Event-ID` header takes precedence.
    pub last_event_id: Option<i64>,
    /// The token, for clients such as browsers' EventSource that cannot send headers.
    pub access_token: Option<String>,
}

/// Follow the event stream
///
/// Server-sent events of the workspace's jobs, resources, runs, publications and alerts, filtered
/// by project, resource or kind; reconnect with `Last-Event-ID` to resume without a gap.
#[utoipa::path(
    operation_id = "stream_events",
    tag = "events",
    params(
        EventQuery,
        ("Last-Event-ID" = Option<i64>, Header, description = "Replays every event after this id, in order, before live ones"),
    ),
    responses(
        (status = 200, description = "A `text/event-stream` (server-sent events). It opens with `retry: <ms>`; then each event is a frame of `id: <event id>`, `event: <kind>` and one `data:` line holding the event as JSON (a `TypedEvent`: switch on `kind` to read a typed `data`), ended by a blank line. A `: keep-alive` comment comes every 15 s of silence. The stream ends on shutdown, when the client falls too far behind, or when its token is revoked; reconnect with `Last-Event-ID` (the last `id:` seen) to get every missed event once, in order.",
         content_type = "text/event-stream", body = crate::domain::event::TypedEvent),
        (status = 400, body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/events")]
pub async fn stream(
    state: Data,
    request: HttpRequest,
    Caller(principal): Caller,
    query: web::Query<EventQuery>,
) -> Result<HttpResponse, ApiError> {
    let header = request
        .headers()
        .get("Last-Event-ID")
        .map(|value| {
            value
                .to_str()
                .ok()
                .and_then(|text| text.trim().parse::<i64>().ok())
                .filter(|id| *id >= 0)
                .ok_or_else(|| {
                    AppError::bad_request(
                        ErrorCode::InvalidLastEventId,
                        "Last-Event-ID must be an event id",
                    )
                })
        })
        .transpose()?;
    let last_event_id = header.or(query.last_event_id);
    // Only the token's workspace's events, whatever `project_id` names.
    let filter = EventFilter {
        workspace_id: Some(principal.workspace_id),
        project_id: query.project_id,
    };
    let events = EventStream::open(
        &state.bus,
        state.pool.clone(),
        filter,
        last_event_id,
        state.shutdown.clone(),
        crate::access::RevocationWatch::new(&state.tokens, principal.hash, state.pool.clone()),
    );
    Ok(HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header(("Cache-Control", "no-cache"))
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(events.into_stream()))
}
