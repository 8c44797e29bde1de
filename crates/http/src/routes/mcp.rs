//! The MCP server's HTTP transport ("streamable HTTP"): each POST carries one JSON-RPC message.
//! A request is answered with JSON, or, when it calls a tool with a progress token and the client
//! takes `text/event-stream`, with a short event stream of progress notifications ending in the
//! response. There is no session and no server-initiated stream: `GET` is 405, as the protocol
//! allows.

use actix_web::{http::header, post, web, HttpRequest, HttpResponse};
use bytes::Bytes;
use tokio::sync::mpsc;

use super::Data;
use crate::error::AppError;
use crate::{
    auth::Caller,
    error::{ApiError, Problem},
    mcp::{self, McpMessage, McpResponse, Progress, ToolContext},
};

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(receive);
}

/// Send a Model Context Protocol message
///
/// One JSON-RPC message of the MCP streamable HTTP transport: `initialize`, `tools/list` and
/// `tools/call` with the same operations as tools, within the token's workspace and scope.
#[utoipa::path(
    tag = "mcp", operation_id = "mcp_message",
    params(("MCP-Protocol-Version" = Option<String>, Header, description = "The revision agreed at `initialize` (`2025-11-25` or `2025-06-18`)")),
    request_body(content = McpMessage, description = "One JSON-RPC 2.0 message of the Model Context Protocol: `initialize`, `ping`, `tools/list`, `tools/call` (the tools and their input schemas are listed by `tools/list`), or a notification", content_type = "application/json",
        example = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "list_projects", "arguments": {"limit": 5}}})),
    responses(
        (status = 200, description = "The response; for a `tools/call` with `params._meta.progressToken` from a client that accepts `text/event-stream`, an event stream of `notifications/progress` messages ending with the response (each an `event: message` frame whose `data:` is the JSON message)",
         content((McpResponse = "application/json"), (String = "text/event-stream"))),
        (status = 202, description = "A notification or a response was received; nothing to answer"),
        (status = 403, description = "A browser page on an origin not allowed (`origin_refused`)", body = Problem, content_type = "application/problem+json"),
        (status = 400, description = "Not a JSON-RPC 2.0 message, a batch, or an unsupported `MCP-Protocol-Version` (a JSON-RPC error response without an id); malformed JSON is a problem (`malformed_json`)",
         content((McpResponse = "application/json"), (Problem = "application/problem+json"))),
    ),
)]
#[post("")]
pub async fn receive(
    state: Data,
    request: HttpRequest,
    Caller(principal): Caller,
    body: web::Json<super::body::UniqueKeys>,
) -> Result<HttpResponse, ApiError> {
    check_origin(&state, &request)?;
    if let Some(version) = request.headers().get("MCP-Protocol-Version") {
        let version = version.to_str().unwrap_or_default();
        if !mcp::PROTOCOL_VERSIONS.contains(&version) {
            return Ok(bad_request(
                mcp::INVALID_REQUEST,
                format!(
                    "unsupported MCP-Protocol-Version `{version}`; this server speaks {}",
                    mcp::PROTOCOL_VERSIONS.join(", ")
                ),
            ));
        }
    }
    let value = body.into_inner().0;
    if value.is_array() {
        return Ok(bad_request(
            mcp::INVALID_REQUEST,
            "send one message per request; batches are not supported",
        ));
    }
    let rpc_request = match serde_json::from_value::<McpMessage>(value) {
        Ok(McpMessage::Request(rpc_request)) => rpc_request,
        Ok(McpMessage::Notification(_) | McpMessage::Response(_)) => {
            return Ok(HttpResponse::Accepted().finish())
        }
        Err(_) => {
            return Ok(bad_request(
                mcp::INVALID_REQUEST,
                "not a JSON-RPC 2.0 request, notification or response (`jsonrpc: \"2.0\"`, a string or integer `id`, a `method`, an object `params`)",
            ))
        }
    };
    let mut context = ToolContext {
        state: state.clone(),
        principal,
        base_url: own_origin(&request),
        progress: None,
    };
    let streams = request
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/event-stream"));
    let token = mcp::wants_progress(&rpc_request).filter(|_| streams);
    let Some(token) = token else {
        return Ok(HttpResponse::Ok().json(mcp::answer(context, rpc_request).await));
    };
    let (sender, messages) = mpsc::unbounded_channel();
    context.progress = Some(Progress {
        token,
        sender: sender.clone(),
    });
    actix_web::rt::spawn(async move {
        let response = mcp::answer(context, rpc_request).await;
        let _ = sender.send(serde_json::to_value(response).expect("a response serializes"));
    });
    // The stream ends when the call has answered and every sender is gone.
    let frames = futures::stream::unfold(messages, |mut messages| async move {
        let message = messages.recv().await?;
        let frame = Bytes::from(format!("event: message\ndata: {message}\n\n"));
        Some((Ok::<_, actix_web::Error>(frame), messages))
    });
    Ok(HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header(("Cache-Control", "no-cache"))
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(frames))
}

/// A browser sends `Origin`; only the service's own pages and the configured origins may call,
/// so a page on another site cannot reach a local server through its visitor's browser (DNS
/// rebinding), as the protocol requires.
fn check_origin(state: &Data, request: &HttpRequest) -> Result<(), ApiError> {
    let Some(origin) = request.headers().get(header::ORIGIN) else {
        return Ok(());
    };
    let origin = origin.to_str().unwrap_or_default().trim_end_matches('/');
    let allowed = origin.eq_ignore_ascii_case(&own_origin(request))
        || state
            .settings
            .mcp
            .allowed_origins
            .iter()
            .any(|allowed| allowed.trim_end_matches('/').eq_ignore_ascii_case(origin));
    if allowed {
        Ok(())
    } else {
        Err(AppError::Forbidden {
            code: crate::error_code::ErrorCode::OriginRefused,
            detail: format!(
                "the origin `{origin}` may not call /mcp; allow it in mcp.allowed_origins"
            ),
        }
        .into())
    }
}

/// Where this service was reached: `scheme://host[:port]`.
fn own_origin(request: &HttpRequest) -> String {
    let connection = request.connection_info();
    format!("{}://{}", connection.scheme(), connection.host())
}

fn bad_request(code: i32, message: impl Into<String>) -> HttpResponse {
    HttpResponse::BadRequest().json(McpResponse::error(None, code, message))
}
