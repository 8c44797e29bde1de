//! The JSON request body of every route. serde's derived structs also accept a JSON array (the
//! fields in order), so `[null, null]` would start a step with defaults; this extractor takes
//! only an object, and refuses repeated keys ([`UniqueKeys`]). It is named `Json` so utoipa
//! documents the body as it does `web::Json`.

use crate::error::AppError;
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
        let value = web::Json::<UniqueKeys>::from_request(request, payload);
        Box::pin(async move {
            let web::Json(UniqueKeys(value)) = value.await?;
            if !value.is_object() {
                return Err(ApiError::from(AppError::unprocessable(
                    ErrorCode::InvalidBody,
                    "the body must be a JSON object",
                ))
                .into());
            }
            serde_path_to_error::deserialize(value)
                .map(Json)
                .map_err(|error| ApiError::from(AppError::invalid_body(&error)).into())
        })
    }
}

/// A JSON value in which no object names a key twice. serde_json keeps the last of repeated
/// keys, so `{"name": "a", "name": "b"}` would be read as `b` where another parser reads `a`;
/// such a body is refused instead (422 `invalid_body`, naming the key).
pub struct UniqueKeys(pub serde_json::Value);

impl<'de> serde::Deserialize<'de> for UniqueKeys {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        serde::de::DeserializeSeed::deserialize(At(String::new()), deserializer).map(UniqueKeys)
    }
}

/// Reads the value at a path (`a.b[2]`), for the message that names a repeated key.
struct At(String);

impl<'de> serde::de::DeserializeSeed<'de> for At {
    type Value = serde_json::Value;

    fn deserialize<D: serde::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for At {
    type Value = serde_json::Value;

    fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
        formatter.write_str("any JSON value")
    }

    fn visit_bool<E>(self, value: bool) -> Result<Self::Value, E> {
        Ok(value.into())
    }

    fn visit_i64<E>(self, value: i64) -> Result<Self::Value, E> {
        Ok(value.into())
    }

    fn visit_u64<E>(self, value: u64) -> Result<Self::Value, E> {
        Ok(value.into())
    }

    fn visit_f64<E>(self, value: f64) -> Result<Self::Value, E> {
        Ok(value.into())
    }

    fn visit_str<E>(self, value: &str) -> Result<Self::Value, E> {
        Ok(value.into())
    }

    fn visit_string<E>(self, value: String) -> Result<Self::Value, E> {
        Ok(value.into())
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(serde_json::Value::Null)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(At(format!("{}[{}]", self.0, items.len())))? {
            items.push(item);
        }
        Ok(serde_json::Value::Array(items))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut object = serde_json::Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let path = if self.0.is_empty() {
                key.clone()
            } else {
                format!("{}.{key}", self.0)
            };
            if object.contains_key(&key) {
                return Err(serde::de::Error::custom(format!(
                    "`{path}` is given twice; give each key once"
                )));
            }
            let value = map.next_value_seed(At(path))?;
            object.insert(key, value);
        }
        Ok(serde_json::Value::Object(object))
    }
}
