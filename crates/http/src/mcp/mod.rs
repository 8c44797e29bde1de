//! A Model Context Protocol server: AI agents call reelforge's tools over JSON-RPC, served on
//! `/mcp` (streamable HTTP, see `routes::mcp`). It keeps no session, so any replica answers any
//! request. The protocol is small enough to speak directly: `initialize`, `ping`, `tools/list`
//! and `tools/call`, with progress notifications for the calls that wait.

pub mod schema;
pub mod tools;

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use utoipa::ToSchema;

use crate::{error::ApiError, error_code::ErrorCode};
pub use tools::{Progress, ToolContext};

/// The protocol revisions this server speaks, newest first; the first is offered to a client
/// that asks for another. (2025-03-26 is not offered: it requires JSON-RPC batches.)
pub const PROTOCOL_VERSIONS: &[&str] = &["2025-11-25", "2025-06-18"];

const INSTRUCTIONS: &str = "reelforge turns trending Instagram Reels into new short videos. \
Typical flow: create_project (or list_projects), collect reels, list_reels ranked by trend, \
start_run for the best ones (wait_seconds to follow it), get_script to read the rewritten script \
and its checks (edit_script to change it, then start_run from `voice`), and get_video_link for \
the result. Errors carry a stable `code` (see the problem JSON in the tool's answer).";

/// JSON-RPC's version marker, always `2.0`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
pub enum JsonRpc {
    #[serde(rename = "2.0")]
    V2,
}

/// A request's id: a string or an integer, never null.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum RequestId {
    Number(i64),
    Text(String),
}

/// A request: it gets a response with the same `id`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RpcRequest {
    pub jsonrpc: JsonRpc,
    pub id: RequestId,
    #[schema(example = "tools/call")]
    pub method: String,
    #[schema(value_type = Option<Object>)]
    pub params: Option<Map<String, Value>>,
}

/// A notification: no `id`, no response.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RpcNotification {
    pub jsonrpc: JsonRpc,
    #[schema(example = "notifications/initialized")]
    pub method: String,
    #[schema(value_type = Option<Object>)]
    pub params: Option<Map<String, Value>>,
}

/// A client's answer to a server request (this server sends none, so it is only acknowledged).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RpcClientResponse {
    pub jsonrpc: JsonRpc,
    pub id: RequestId,
    #[schema(value_type = Option<Object>)]
    pub result: Option<Map<String, Value>>,
    pub error: Option<RpcError>,
}

/// One JSON-RPC message, as a client posts it to `/mcp`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum McpMessage {
    Request(RpcRequest),
    Notification(RpcNotification),
    Response(RpcClientResponse),
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RpcError {
    /// JSON-RPC's: -32600 invalid request, -32601 no such method, -32602
    /// invalid params.
    pub code: i32,
    pub message: String,
}

/// The answer to a request.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct McpResponse {
    pub jsonrpc: JsonRpc,
    /// Null only when the request could not be read.
    pub id: Option<RequestId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub result: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<RpcError>,
}

pub const INVALID_REQUEST: i32 = -32600;
const METHOD_NOT_FOUND: i32 = -32601;
const INVALID_PARAMS: i32 = -32602;

impl McpResponse {
    fn result(id: RequestId, result: Value) -> Self {
        McpResponse {
            jsonrpc: JsonRpc::V2,
            id: Some(id),
            result: Some(result),
            error: None,
        }
    }

    pub fn error(id: Option<RequestId>, code: i32, message: impl Into<String>) -> Self {
        McpResponse {
            jsonrpc: JsonRpc::V2,
            id,
            result: None,
            error: Some(RpcError {
                code,
                message: message.into(),
            }),
        }
    }
}

/// The `tools/list` answer, built once: the schemas come from the whole OpenAPI document.
static TOOL_LIST: std::sync::LazyLock<Value> = std::sync::LazyLock::new(
    || json!({ "tools": tools::all().iter().map(tools::Tool::describe).collect::<Vec<_>>() }),
);

/// `initialize`'s parameters, as far as this server reads them.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct InitializeParams {
    protocol_version: Option<String>,
}

/// `tools/call`'s parameters.
#[derive(Debug, Deserialize)]
struct CallParams {
    name: String,
    #[serde(default)]
    arguments: Value,
    #[serde(rename = "_meta", default)]
    meta: Option<CallMeta>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CallMeta {
    progress_token: Option<Value>,
}

/// A method's parameters as its type, or JSON-RPC's invalid-params error.
fn params_of<P: serde::de::DeserializeOwned>(
    params: Option<&Map<String, Value>>,
) -> Result<P, String> {
    let params = Value::Object(params.cloned().unwrap_or_default());
    serde_path_to_error::deserialize(params)
        .map_err(|error| format!("`params.{}`: {}", error.path(), error.inner()))
}

/// Whether a request calls a tool with a progress token, so its answer is worth streaming.
pub fn wants_progress(request: &RpcRequest) -> Option<Value> {
    if request.method != "tools/call" {
        return None;
    }
    params_of::<CallParams>(request.params.as_ref())
        .ok()?
        .meta?
        .progress_token
}

/// Answers one request.
pub async fn answer(context: ToolContext, request: RpcRequest) -> McpResponse {
    let id = request.id;
    let params = request.params.as_ref();
    match request.method.as_str() {
        "initialize" => {
            let asked = params_of::<InitializeParams>(params)
                .ok()
                .and_then(|p| p.protocol_version);
            let version = asked
                .as_deref()
                .filter(|v| PROTOCOL_VERSIONS.contains(v))
                .unwrap_or(PROTOCOL_VERSIONS[0]);
            McpResponse::result(
                id,
                json!({
                    "protocolVersion": version,
                    "capabilities": { "tools": { "listChanged": false } },
                    "serverInfo": {
                        "name": "reelforge",
                        "title": "reelforge",
                        "version": env!("CARGO_PKG_VERSION"),
                    },
                    "instructions": INSTRUCTIONS,
                }),
            )
        }
        "ping" => McpResponse::result(id, json!({})),
        "tools/list" => McpResponse::result(id, TOOL_LIST.clone()),
        "tools/call" => {
            let call = match params_of::<CallParams>(params) {
                Ok(call) => call,
                Err(problem) => return McpResponse::error(Some(id), INVALID_PARAMS, problem),
            };
            let name = call.name.as_str();
            let Some(tool) = tools::find(name) else {
                return McpResponse::error(
                    Some(id),
                    INVALID_PARAMS,
                    format!("unknown tool `{name}`"),
                );
            };
            let result = match tool.call(context, call.arguments).await {
                Ok(output) => json!({
                    "content": [{ "type": "text", "text": output.to_string() }],
                    "structuredContent": output,
                    "isError": false,
                }),
                Err(error) => tool_error(name, &error),
            };
            McpResponse::result(id, result)
        }
        other => McpResponse::error(Some(id), METHOD_NOT_FOUND, format!("no method `{other}`")),
    }
}

/// A failed call as the tool's own answer, so the agent reads why: the problem document, with
/// its stable `code`, as the text.
fn tool_error(tool: &str, error: &ApiError) -> Value {
    if error.code() == ErrorCode::Internal {
        tracing::error!(tool, ?error, "MCP tool failed");
    }
    let problem = serde_json::to_string(&error.to_problem()).expect("a problem serializes");
    json!({
        "content": [{ "type": "text", "text": problem }],
        "isError": true,
    })
}
