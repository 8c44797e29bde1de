//! The JSON request body of every route. serde's derived structs also accept a JSON array (the
//! fields in order), so `[null, null]` would start a step with defaults; this extractor takes
//! only an object. It is named `Json` so utoipa documents the body as it does `web::Json`.

use crate::error_code::ErrorCode;
use std::ops::Deref;

use actix_web::{dev::Payload, web, FromRequest, HttpRequest};
use futures::future::LocalBoxFuture;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

pub struct Json<T>(pub T);

impl<T> Json<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> Deref for Json<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(request: &HttpRequest, payload: &mut Payload) -> Self::Future {
        // Size, content type and syntax are checked as for any JSON body (see `JsonConfig`).
        let value = web::Json::<serde_json::Value>::from_request(request, payload);
        Box::pin(async move {
            let web::Json(value) = value.await?;
            if !value.is_object() {
                return Err(ApiError::unprocessable(
                    ErrorCode::InvalidBody,
                    "the body must be a JSON object",
                )
                .into());
            }
            serde_path_to_error::deserialize(value)
                .map(Json)
                .map_err(|error| ApiError::invalid_body(&error).into())
        })
    }
}
