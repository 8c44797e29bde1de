//! The media library: uploads are inspected for what they are (ffprobe for media, the font's
//! own tables for fonts), stored under the project's media prefix, and counted against its
//! quota under a lock, so two uploads at once cannot both squeeze past it.

use uuid::Uuid;

use crate::{
    collections::{save_upload, storage_error},
    db,
    domain::{
        asset::{Asset, AssetKind, AssetList, AssetQuery, AssetUsage},
        options::LibraryKey,
        project::FieldError,
    },
    error::ApiError,
    error_code::ErrorCode,
    media::MediaStore,
    pagination::{Page, PageQuery},
    providers::process,
    state::AppState,
};

/// Codecs ffprobe reports for still pictures.
const IMAGE_CODECS: &[&str] = &["png", "mjpeg", "webp", "bmp", "tiff"];

/// What an upload turned out to be.
#[derive(Debug, PartialEq)]
struct Inspected {
    kind: AssetKind,
    duration_ms: Option<u64>,
    width: Option<u32>,
    height: Option<u32>,
    font_family: Option<String>,
}

/// The family name a font file declares (the typographic family if it has one).
fn font_family(data: &[u8]) -> Option<String> {
    let face = ttf_parser::Face::parse(data, 0).ok()?;
    let names: Vec<ttf_parser::name::Name> = face.names().into_iter().collect();
    [
        ttf_parser::name_id::TYPOGRAPHIC_FAMILY,
        ttf_parser::name_id::FAMILY,
    ]
    .into_iter()
    .find_map(|id| {
        names
            .iter()
            .filter(|name| name.name_id == id)
            .find_map(|name| name.to_string())
    })
    .filter(|family| !family.trim().is_empty())
}

async fn inspect(path: &std::path::Path) -> Result<Inspected, ApiError> {
    let unsupported = |detail: String| ApiError::unprocessable(ErrorCode::UnsupportedAsset, detail);
    let head = {
        use tokio::io::AsyncReadExt;
        let mut head = [0u8; 4];
        let mut file = tokio::fs::File::open(path)
            .await
            .map_err(|error| ApiError::Internal(error.into()))?;
        let read = file.read(&mut head).await.unwrap_or(0);
        head[..read].to_vec()
    };
    if [&b"\x00\x01\x00\x00"[..], b"OTTO", b"true"].contains(&head.as_slice()) {
        let data = tokio::fs::read(path)
            .await
            .map_err(|error| ApiError::Internal(error.into()))?;
        let family = font_family(&data)
            .ok_or_else(|| unsupported("the font file has no readable family name".into()))?;
        return Ok(Inspected {
            kind: AssetKind::Font,
            duration_ms: None,
            width: None,
            height: None,
            font_family: Some(family),
        });
    }
    let info = process::probe(path).await.map_err(|_| {
        unsupported("the file is not a video, image, audio file or TrueType/OpenType font".into())
    })?;
    let still = info
        .video_codec
        .as_deref()
        .is_some_and(|codec| IMAGE_CODECS.contains(&codec))
        && info.audio_codec.is_none()
        && info.duration_ms <= 1000;
    let kind = match (&info.video_codec, &info.audio_codec) {
        _ if still => AssetKind::Image,
        (Some(_), _) if info.duration_ms > 0 => AssetKind::Video,
        (None, Some(_)) if info.duration_ms > 0 => AssetKind::Audio,
        _ => {
            return Err(unsupported(
                "the file has no playable picture or sound".into(),
            ))
        }
    };
    Ok(Inspected {
        kind,
        duration_ms: (kind != AssetKind::Image).then_some(info.duration_ms),
        width: info.width.filter(|_| kind != AssetKind::Audio),
        height: info.height.filter(|_| kind != AssetKind::Audio),
        font_family: None,
    })
}

/// The stored file's extension: the upload's own when it is a plain one (so the file is served
/// with its type), else one for its kind.
fn extension(name: &str, kind: AssetKind) -> String {
    name.rsplit_once('.')
        .map(|(_, ext)| ext.to_ascii_lowercase())
        .filter(|ext| {
            (1..=5).contains(&ext.len()) && ext.chars().all(|c| c.is_ascii_alphanumeric())
        })
        .unwrap_or_else(|| {
            match kind {
                AssetKind::Video => "mp4",
                AssetKind::Image => "png",
                AssetKind::Audio => "m4a",
                AssetKind::Font => "ttf",
            }
            .to_owned()
        })
}

fn quota_refusal(used: u64, adding: u64, quota: u64) -> ApiError {
    ApiError::AssetQuotaExceeded(format!(
        "the media library uses {used} of its {quota} bytes; this upload needs {adding} more"
    ))
}

async fn project_exists(state: &AppState, project_id: Uuid) -> Result<(), ApiError> {
    db::projects::get(&state.pool, project_id)
        .await?
        .ok_or(ApiError::NotFound("project"))?;
    Ok(())
}

/// Stores one uploaded file (its bytes as `chunks`) in the project's library.
pub async fn upload<S>(
    state: &AppState,
    project_id: Uuid,
    name: String,
    chunks: S,
) -> Result<Asset, ApiError>
where
    S: futures::Stream<Item = Result<bytes::Bytes, ApiError>> + Unpin,
{
    project_exists(state, project_id).await?;
    let settings = &state.settings.assets;
    let (_, used) = db::assets::usage(&state.pool, project_id).await?;
    let room = settings.quota_bytes.saturating_sub(used);
    let limit = settings.max_file_bytes.min(room);
    let scratch = save_upload(state, chunks, limit)
        .await
        .map_err(|error| match error {
            ApiError::PayloadTooLarge { .. } if room < settings.max_file_bytes => {
                quota_refusal(used, room + 1, settings.quota_bytes)
            }
            other => other,
        })?;
    let stored = store(state, project_id, name, &scratch).await;
    let _ = state.media.remove(&scratch).await;
    stored
}

async fn store(
    state: &AppState,
    project_id: Uuid,
    name: String,
    scratch: &str,
) -> Result<Asset, ApiError> {
    let path = state.media.fetch(scratch).await.map_err(storage_error)?;
    let inspected = inspect(&path).await?;
    let size_bytes = tokio::fs::metadata(&path)
        .await
        .map_err(|error| storage_error(error.into()))?
        .len();
    let id = Uuid::new_v4();
    let key = format!(
        "{}/assets/{id}.{}",
        MediaStore::project_prefix(project_id),
        extension(&name, inspected.kind)
    );
    state.media.put(&key, &path).await.map_err(storage_error)?;
    let asset = Asset {
        id,
        project_id,
        kind: inspected.kind,
        name,
        key: key.clone(),
        size_bytes,
        duration_ms: inspected.duration_ms,
        width: inspected.width,
        height: inspected.height,
        font_family: inspected.font_family,
        created_at: chrono::Utc::now(),
    };
    let inserted = async {
        let mut tx = state.pool.begin().await?;
        db::assets::lock_project(&mut *tx, project_id).await?;
        let (_, used) = db::assets::usage(&mut *tx, project_id).await?;
        let quota = state.settings.assets.quota_bytes;
        if used + size_bytes > quota {
            return Err(quota_refusal(used, size_bytes, quota));
        }
        let asset = db::assets::insert(&mut *tx, &asset).await?;
        tx.commit().await?;
        Ok(asset)
    }
    .await;
    if inserted.is_err() {
        let _ = state.media.remove(&key).await;
    }
    inserted
}

pub async fn list(
    state: &AppState,
    project_id: Uuid,
    query: &AssetQuery,
) -> Result<AssetList, ApiError> {
    let page = PageQuery {
        limit: query.limit,
        cursor: query.cursor.clone(),
    }
    .parse()?;
    project_exists(state, project_id).await?;
    let rows = db::assets::list(&state.pool, project_id, query.kind, page).await?;
    let Page { items, next_cursor } = Page::from_rows(rows, page.limit);
    let (count, used_bytes) = db::assets::usage(&state.pool, project_id).await?;
    Ok(AssetList {
        items,
        next_cursor,
        usage: AssetUsage {
            count,
            used_bytes,
            quota_bytes: state.settings.assets.quota_bytes,
        },
    })
}

pub async fn get(state: &AppState, id: Uuid) -> Result<Asset, ApiError> {
    db::assets::get(&state.pool, id)
        .await?
        .ok_or(ApiError::NotFound("asset"))
}

/// Deletes the asset and its file. Renders already made keep their own copies.
pub async fn delete(state: &AppState, id: Uuid) -> Result<(), ApiError> {
    let asset = db::assets::delete(&state.pool, id)
        .await?
        .ok_or(ApiError::NotFound("asset"))?;
    if let Err(error) = state.media.remove(&asset.key).await {
        tracing::warn!(%error, key = %asset.key, "the deleted asset's file stays behind");
    }
    Ok(())
}

/// What is wrong with the library files options name (fields prefixed with `prefix`): each
/// must be in the project's library and of a kind its option takes.
pub async fn library_problems(
    db: &sqlx::PgPool,
    project_id: Uuid,
    prefix: &str,
    needs: &[LibraryKey],
) -> Result<Vec<FieldError>, sqlx::Error> {
    let keys: Vec<String> = needs.iter().filter_map(|need| need.key.clone()).collect();
    let found = db::assets::by_keys(db, project_id, &keys).await?;
    let mut problems = Vec::new();
    for need in needs {
        let kinds: Vec<&str> = need.kinds.iter().map(|kind| kind.as_str()).collect();
        let kinds = kinds.join(" or ");
        let problem = match &need.key {
            Some(key) => match found.iter().find(|asset| &asset.key == key) {
                None => Some(format!("`{key}` is not in this project's media library")),
                Some(asset) if !need.kinds.contains(&asset.kind) => Some(format!(
                    "`{key}` is a {} asset; this takes {kinds}",
                    asset.kind
                )),
                Some(_) => None,
            },
            None => db::assets::of_kinds(db, project_id, need.kinds, 1)
                .await?
                .is_empty()
                .then(|| {
                    format!("the project's media library has no {kinds} assets: upload some or name them")
                }),
        };
        if let Some(message) = problem {
            problems.push(FieldError::new(format!("{prefix}.{}", need.field), message));
        }
    }
    Ok(problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_names_keep_plain_extensions_only() {
        assert_eq!(extension("Sunrise.MOV", AssetKind::Video), "mov");
        assert_eq!(extension("clip", AssetKind::Video), "mp4");
        assert_eq!(extension("evil.m p4", AssetKind::Video), "mp4");
        assert_eq!(extension("font.ttf/../x", AssetKind::Font), "ttf");
    }

    #[tokio::test]
    async fn dejavu_is_a_font_with_its_family() {
        let inspected = inspect(std::path::Path::new(
            "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
        ))
        .await
        .unwrap();
        assert_eq!(inspected.kind, AssetKind::Font);
        assert_eq!(inspected.font_family.as_deref(), Some("DejaVu Sans"));
    }
}
