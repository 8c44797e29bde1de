//! The media library: uploads are inspected for what they are (ffprobe for media, the font's
//! own tables for fonts), stored under the project's media prefix, and counted against its
//! quota under a lock, so two uploads at once cannot both squeeze past it.

use uuid::Uuid;

use crate::{
    collections::{storage_error, write_upload},
    db,
    domain::{
        asset::{Asset, AssetKind, AssetList, AssetQuery, AssetUsage},
        options::LibraryKey,
        project::FieldError,
    },
    error::AppError,
    error_code::ErrorCode,
    media::{MediaStore, Provisional},
    pagination::{Page, PageQuery},
    providers::process,
    state::AppState,
};

/// Codecs ffprobe reports for still pictures.
const IMAGE_CODECS: &[&str] = &["png", "mjpeg", "webp", "bmp", "tiff"];

/// The largest font file read whole to find its family name.
const MAX_FONT_BYTES: u64 = 50 << 20;

/// The family name a font file declares as libass looks fonts up: name 1 (the family, which for
/// a weight such as SemiBold includes it), Windows' record first.
fn font_family(data: &[u8]) -> Option<String> {
    let face = ttf_parser::Face::parse(data, 0).ok()?;
    let families: Vec<ttf_parser::name::Name> = face
        .names()
        .into_iter()
        .filter(|name| name.name_id == ttf_parser::name_id::FAMILY)
        .collect();
    let windows = families
        .iter()
        .filter(|name| name.platform_id == ttf_parser::PlatformId::Windows);
    windows
        .chain(families.iter())
        .find_map(|name| name.to_string())
        .filter(|family| !family.trim().is_empty())
}

/// The stored file's extension, from what the file is: never from the client's file name, since
/// it decides the type the file is served as.
fn extension(kind: AssetKind, container: Option<&str>, font_magic: &[u8]) -> &'static str {
    let container = container.unwrap_or_default();
    let has = |name: &str| container.split(',').any(|part| part == name);
    match kind {
        AssetKind::Font if font_magic == b"OTTO" => "otf",
        AssetKind::Font => "ttf",
        AssetKind::Image if has("png_pipe") => "png",
        AssetKind::Image if has("webp_pipe") => "webp",
        AssetKind::Image if has("bmp_pipe") => "bmp",
        AssetKind::Image if has("tiff_pipe") => "tiff",
        AssetKind::Image => "jpg",
        AssetKind::Audio if has("mp3") => "mp3",
        AssetKind::Audio if has("wav") => "wav",
        AssetKind::Audio if has("flac") => "flac",
        AssetKind::Audio if has("ogg") => "ogg",
        AssetKind::Audio => "m4a",
        AssetKind::Video if has("webm") => "webm",
        AssetKind::Video if has("matroska") => "mkv",
        AssetKind::Video => "mp4",
    }
}

/// What an upload turned out to be, and the extension it is stored with.
#[derive(Debug, PartialEq)]
struct Inspected {
    kind: AssetKind,
    extension: &'static str,
    duration_ms: Option<u64>,
    width: Option<u32>,
    height: Option<u32>,
    font_family: Option<String>,
}

async fn inspect(path: &std::path::Path, size_bytes: u64) -> Result<Inspected, AppError> {
    let unsupported = |detail: &str| AppError::unprocessable(ErrorCode::UnsupportedAsset, detail);
    let head = {
        use tokio::io::AsyncReadExt;
        let mut head = [0u8; 4];
        let mut file = tokio::fs::File::open(path)
            .await
            .map_err(|error| storage_error(error.into()))?;
        let read = file.read(&mut head).await.unwrap_or(0);
        head[..read].to_vec()
    };
    if [&b"\x00\x01\x00\x00"[..], b"OTTO", b"true"].contains(&head.as_slice()) {
        if size_bytes > MAX_FONT_BYTES {
            return Err(unsupported("a font file must be at most 50 MiB"));
        }
        let data = tokio::fs::read(path)
            .await
            .map_err(|error| storage_error(error.into()))?;
        let family = font_family(&data)
            .ok_or_else(|| unsupported("the font file has no readable family name"))?;
        return Ok(Inspected {
            kind: AssetKind::Font,
            extension: extension(AssetKind::Font, None, &head),
            duration_ms: None,
            width: None,
            height: None,
            font_family: Some(family),
        });
    }
    let info = match process::probe(path).await {
        Ok(info) => info,
        // ffprobe refusing the file says what it is; ffprobe missing or stuck says nothing.
        Err(error) if error.code() == Some(ErrorCode::ToolFailed) => {
            return Err(unsupported(
                "the file is not a video, image, audio file or TrueType/OpenType font",
            ))
        }
        Err(error) => return Err(AppError::Internal(error.into())),
    };
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
        _ => return Err(unsupported("the file has no playable picture or sound")),
    };
    Ok(Inspected {
        kind,
        extension: extension(kind, info.container.as_deref(), &head),
        duration_ms: (kind != AssetKind::Image).then_some(info.duration_ms),
        width: info.width.filter(|_| kind != AssetKind::Audio),
        height: info.height.filter(|_| kind != AssetKind::Audio),
        font_family: None,
    })
}

fn quota_refusal(used: u64, adding: u64, quota: u64) -> AppError {
    AppError::AssetQuotaExceeded(format!(
        "the media library uses {used} of its {quota} bytes; this upload needs {adding} more"
    ))
    .with_params(crate::domain::ErrorParams {
        limit_bytes: Some(quota),
        used_bytes: Some(used),
        ..Default::default()
    })
}

/// An uploaded file received for a project's library, not in it yet: dropped, it is removed.
pub struct Received {
    project_id: Uuid,
    name: String,
    file: Provisional,
}

/// Receives one uploaded file (its bytes as `chunks`) for the project's library, refusing it
/// as soon as it outgrows the file limit or the room left in the quota.
pub async fn receive<S>(
    state: &AppState,
    project_id: Uuid,
    name: String,
    chunks: S,
) -> Result<Received, AppError>
where
    S: futures::Stream<Item = Result<bytes::Bytes, AppError>> + Unpin,
{
    crate::projects::require(state, project_id).await?;
    let settings = &state.settings.assets;
    let (_, used) = db::assets::usage(&state.pool, project_id).await?;
    let room = settings.quota_bytes.saturating_sub(used);
    let limit = settings.max_file_bytes.min(room);
    // Written on this replica only: the file goes to the shared store once, under its own key.
    let file = write_upload(state, chunks, limit)
        .await
        .map_err(|error| match error {
            AppError::PayloadTooLarge { .. } if room < settings.max_file_bytes => {
                quota_refusal(used, room + 1, settings.quota_bytes)
            }
            other => other,
        })?;
    Ok(Received {
        project_id,
        name,
        file,
    })
}

/// Stores a received file in the library, if the quota still has room for it.
pub async fn store(state: &AppState, received: Received) -> Result<Asset, AppError> {
    let Received {
        project_id,
        name,
        file,
    } = received;
    let size_bytes = tokio::fs::metadata(file.path())
        .await
        .map_err(|error| storage_error(error.into()))?
        .len();
    let inspected = inspect(file.path(), size_bytes).await?;
    let id = Uuid::new_v4();
    let key = format!(
        "{}/assets/{id}.{}",
        MediaStore::project_prefix(project_id),
        inspected.extension
    );
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
        content_url: Asset::content_url(id),
    };
    let stored = state
        .media
        .put_provisional(file, key)
        .await
        .map_err(storage_error)?;
    let mut tx = state.pool.begin().await?;
    // The quota is checked again under the project's lock: two uploads at once are counted one
    // after the other.
    db::projects::lock(&mut *tx, project_id).await?;
    let (_, used) = db::assets::usage(&mut *tx, project_id).await?;
    let quota = state.settings.assets.quota_bytes;
    if used + size_bytes > quota {
        return Err(quota_refusal(used, size_bytes, quota));
    }
    let asset = db::assets::insert(&mut *tx, &asset)
        .await
        .map_err(crate::projects::gone_or)?;
    tx.commit().await?;
    stored.keep();
    Ok(asset)
}

pub async fn list(
    state: &AppState,
    project_id: Uuid,
    query: &AssetQuery,
) -> Result<AssetList, AppError> {
    let page = PageQuery {
        limit: query.limit,
        cursor: query.cursor.clone(),
    }
    .parse()?;
    crate::projects::require(state, project_id).await?;
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

pub async fn get(state: &AppState, id: Uuid) -> Result<Asset, AppError> {
    db::assets::get(&state.pool, id)
        .await?
        .ok_or(AppError::NotFound("asset"))
}

/// Deletes the asset and its file. Renders already made keep their own copies.
pub async fn delete(state: &AppState, id: Uuid) -> Result<(), AppError> {
    let asset = db::assets::delete(&state.pool, id)
        .await?
        .ok_or(AppError::NotFound("asset"))?;
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
    if needs.is_empty() {
        return Ok(Vec::new());
    }
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
                    "`{key}` is a library {} file; this option takes {kinds}",
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
    fn stored_files_are_named_by_what_they_are() {
        let mp4 = Some("mov,mp4,m4a,3gp,3g2,mj2");
        assert_eq!(extension(AssetKind::Video, mp4, b""), "mp4");
        assert_eq!(extension(AssetKind::Audio, mp4, b""), "m4a");
        assert_eq!(
            extension(AssetKind::Video, Some("matroska,webm"), b""),
            "webm"
        );
        assert_eq!(extension(AssetKind::Image, Some("png_pipe"), b""), "png");
        assert_eq!(extension(AssetKind::Image, Some("image2"), b""), "jpg");
        assert_eq!(extension(AssetKind::Font, None, b"OTTO"), "otf");
    }

    #[tokio::test]
    async fn dejavu_is_a_font_with_its_family() {
        let path = std::path::Path::new("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf");
        let size = std::fs::metadata(path).unwrap().len();
        let inspected = inspect(path, size).await.unwrap();
        assert_eq!(inspected.kind, AssetKind::Font);
        assert_eq!(inspected.font_family.as_deref(), Some("DejaVu Sans"));
    }
}
