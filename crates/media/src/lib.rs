//! Where media files live: keys like `projects/{project}/reels/{reel}/video.mp4`.
//!
//! Every file has a local copy under the configured root, because ffprobe, ffmpeg and the local
//! engines work on paths. With the default `local` store that copy is the file itself. With an
//! `s3` store (any S3-compatible service, through the `object_store` crate) the bucket holds the
//! files and the root is each replica's cache: a file stored by one replica is fetched on first
//! use by another, so replicas on several machines share one media library.

use std::{
    path::{Component, Path, PathBuf},
    sync::Arc,
};

use futures::StreamExt;
use object_store::{aws::AmazonS3Builder, path::Path as ObjectPath, ObjectStore, WriteMultipart};
use secrecy::ExposeSecret;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use uuid::Uuid;

use reelforge_settings::{MediaSettings, MediaStoreKind};

/// Parts of a multipart upload; S3 wants at least 5 MiB per part but the last.
const UPLOAD_PART_BYTES: usize = 8 * 1024 * 1024;
/// Parts in flight per upload, which bounds the memory one upload holds.
const UPLOAD_PARTS_IN_FLIGHT: usize = 2;

#[derive(Debug, Clone)]
pub struct MediaStore {
    root: PathBuf,
    /// The shared store behind the local copies, when there is one.
    remote: Option<Arc<dyn ObjectStore>>,
}

#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    #[error("invalid media key `{0}`")]
    InvalidKey(String),
    #[error("media file `{0}` does not exist")]
    Missing(String),
    #[error("media storage failed: {0}")]
    Io(#[from] std::io::Error),
    #[error("object store failed: {0}")]
    Remote(#[from] object_store::Error),
    #[error("invalid media store configuration: {0}")]
    Config(String),
}

/// Whether an I/O failure means the disk (or the user's quota) is full.
pub fn is_storage_full(error: &std::io::Error) -> bool {
    // ENOSPC and EDQUOT, also where the kind is not mapped.
    error.kind() == std::io::ErrorKind::StorageFull
        || matches!(error.raw_os_error(), Some(28 | 122))
}

impl MediaStore {
    /// A store on the local filesystem only.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        MediaStore {
            root: root.into(),
            remote: None,
        }
    }

    pub fn from_settings(settings: &MediaSettings) -> Result<Self, MediaError> {
        let remote = match settings.store {
            MediaStoreKind::Local => None,
            MediaStoreKind::S3 => {
                let s3 = &settings.s3;
                if s3.bucket.is_empty() {
                    return Err(MediaError::Config(
                        "media.s3.bucket is required when media.store is `s3`".into(),
                    ));
                }
                // Standard AWS_* variables fill whatever the settings leave out.
                let mut builder = AmazonS3Builder::from_env()
                    .with_bucket_name(&s3.bucket)
                    .with_allow_http(s3.allow_http)
                    .with_virtual_hosted_style_request(s3.virtual_hosted_style);
                if let Some(region) = &s3.region {
                    builder = builder.with_region(region);
                }
                if let Some(endpoint) = &s3.endpoint {
                    builder = builder.with_endpoint(endpoint);
                }
                if let Some(key_id) = &s3.access_key_id {
                    builder = builder.with_access_key_id(key_id);
                }
                if let Some(secret) = &s3.secret_access_key {
                    builder = builder.with_secret_access_key(secret.expose_secret());
                }
                let store = builder
                    .build()
                    .map_err(|error| MediaError::Config(error.to_string()))?;
                Some(Arc::new(store) as Arc<dyn ObjectStore>)
            }
        };
        Ok(MediaStore {
            root: settings.root.clone(),
            remote,
        })
    }

    /// The local copy of `key`, whether or not it exists yet; keys are relative paths without
    /// `..`.
    pub fn path(&self, key: &str) -> Result<PathBuf, MediaError> {
        let relative = Path::new(key);
        if key.is_empty()
            || !relative
                .components()
                .all(|c| matches!(c, Component::Normal(_)))
        {
            return Err(MediaError::InvalidKey(key.to_owned()));
        }
        Ok(self.root.join(relative))
    }

    /// The local copy of `key`, fetched from the shared store first if this replica lacks it.
    pub async fn fetch(&self, key: &str) -> Result<PathBuf, MediaError> {
        let path = self.path(key)?;
        if tokio::fs::try_exists(&path).await? {
            return Ok(path);
        }
        let Some(remote) = &self.remote else {
            return Err(MediaError::Missing(key.to_owned()));
        };
        let object = match remote.get(&ObjectPath::from(key)).await {
            Ok(object) => object,
            Err(object_store::Error::NotFound { .. }) => {
                return Err(MediaError::Missing(key.to_owned()))
            }
            Err(error) => return Err(error.into()),
        };
        // Streamed to a scratch file and renamed, so a half-fetched file is never taken as whole.
        let scratch = self.scratch("part").await?;
        let result = async {
            let mut file = tokio::fs::File::create(&scratch).await?;
            let mut chunks = object.into_stream();
            while let Some(chunk) = chunks.next().await {
                file.write_all(&chunk?).await?;
            }
            file.flush().await?;
            self.place(&scratch, &path).await
        }
        .await;
        if result.is_err() {
            let _ = tokio::fs::remove_file(&scratch).await;
        }
        result.map(|()| path)
    }

    /// A fresh scratch file (not created yet) that is removed when dropped unless kept.
    pub async fn provisional_scratch(&self, extension: &str) -> Result<Provisional, MediaError> {
        let key = self.scratch_key(extension).await?;
        Provisional::new(self, key, false)
    }

    /// Moves a provisional file to `key` (and into the shared store); answers it there, still
    /// provisional until the caller has recorded it.
    pub async fn put_provisional(
        &self,
        file: Provisional,
        key: String,
    ) -> Result<Provisional, MediaError> {
        // Guarded before the move, so a failed upload to the shared store leaves no local copy.
        let placed = Provisional::new(self, key, self.remote.is_some())?;
        self.put(&placed.key, &file.path).await?;
        Ok(placed)
    }

    /// Where an uploaded video waits for its reel's preparation: inside the project, so it is
    /// deleted with it, and never in `tmp`, which is swept.
    pub fn upload_key(project_id: Uuid) -> String {
        Self::project_file(project_id, "uploads", "upload")
    }

    /// Where an imported dataset file waits for its collection's job: inside the project too.
    pub fn dataset_key(project_id: Uuid) -> String {
        Self::project_file(project_id, "imports", "json")
    }

    fn project_file(project_id: Uuid, folder: &str, extension: &str) -> String {
        format!(
            "{}/{folder}/{}.{extension}",
            Self::project_prefix(project_id),
            Uuid::new_v4().simple()
        )
    }

    /// Removes this replica's scratch files last changed more than `age` ago: work a crash or a
    /// kill interrupted before its guard could clean up. Answers how many went.
    pub async fn sweep_scratch(&self, age: std::time::Duration) -> Result<usize, MediaError> {
        let mut entries = match tokio::fs::read_dir(self.root.join("tmp")).await {
            Ok(entries) => entries,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(0),
            Err(error) => return Err(error.into()),
        };
        let mut removed = 0;
        while let Some(entry) = entries.next_entry().await? {
            let metadata = entry.metadata().await?;
            let old = metadata
                .modified()?
                .elapsed()
                .is_ok_and(|elapsed| elapsed > age);
            if !old {
                continue;
            }
            let gone = if metadata.is_dir() {
                tokio::fs::remove_dir_all(entry.path()).await
            } else {
                tokio::fs::remove_file(entry.path()).await
            };
            match gone {
                Ok(()) => removed += 1,
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
                Err(error) => return Err(error.into()),
            }
        }
        Ok(removed)
    }

    /// A fresh path for work in progress, on the same filesystem so `put` is a rename.
    pub async fn scratch(&self, extension: &str) -> Result<PathBuf, MediaError> {
        let key = self.scratch_key(extension).await?;
        self.path(&key)
    }

    /// The key of a fresh scratch file, for work handed from one process step to another.
    pub async fn scratch_key(&self, extension: &str) -> Result<String, MediaError> {
        tokio::fs::create_dir_all(self.root.join("tmp")).await?;
        Ok(format!("tmp/{}.{extension}", Uuid::new_v4().simple()))
    }

    /// Moves a finished file to `key`, and uploads it to the shared store if there is one.
    pub async fn put(&self, key: &str, file: &Path) -> Result<(), MediaError> {
        let target = self.path(key)?;
        if file != target {
            self.place(file, &target).await?;
        }
        if let Some(remote) = &self.remote {
            upload(remote.as_ref(), key, &target).await?;
        }
        Ok(())
    }

    /// Removes `key` locally and from the shared store; a missing file is not an error.
    pub async fn remove(&self, key: &str) -> Result<(), MediaError> {
        match tokio::fs::remove_file(self.path(key)?).await {
            Ok(()) => {}
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => return Err(error.into()),
        }
        if let Some(remote) = &self.remote {
            match remote.delete(&ObjectPath::from(key)).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                Err(error) => return Err(error.into()),
            }
        }
        Ok(())
    }

    /// Removes every file under `prefix`, locally and from the shared store.
    pub async fn remove_prefix(&self, prefix: &str) -> Result<(), MediaError> {
        match tokio::fs::remove_dir_all(self.path(prefix)?).await {
            Ok(()) => {}
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => return Err(error.into()),
        }
        if let Some(remote) = &self.remote {
            let prefix = ObjectPath::from(prefix);
            let locations = remote
                .list(Some(&prefix))
                .map(|meta| meta.map(|meta| meta.location))
                .boxed();
            let mut deleted = remote.delete_stream(locations);
            while let Some(result) = deleted.next().await {
                match result {
                    Ok(_) | Err(object_store::Error::NotFound { .. }) => {}
                    Err(error) => return Err(error.into()),
                }
            }
        }
        Ok(())
    }

    /// The SHA-256 of a stored file, read in chunks.
    pub async fn sha256(path: &Path) -> Result<String, MediaError> {
        use sha2::{Digest, Sha256};
        let mut file = tokio::fs::File::open(path).await?;
        let mut hasher = Sha256::new();
        let mut buffer = vec![0u8; 256 * 1024];
        loop {
            let read = file.read(&mut buffer).await?;
            if read == 0 {
                return Ok(hex::encode(hasher.finalize()));
            }
            hasher.update(&buffer[..read]);
        }
    }

    pub fn project_prefix(project_id: Uuid) -> String {
        format!("projects/{project_id}")
    }

    async fn place(&self, from: &Path, to: &Path) -> Result<(), MediaError> {
        if let Some(parent) = to.parent() {
            tokio::fs::create_dir_all(parent).await?;
        }
        tokio::fs::rename(from, to).await?;
        Ok(())
    }
}

/// A media file removed when dropped unless [kept](Provisional::keep): scratch work and uploads
/// not yet recorded leave nothing behind on any way out, an error, a refusal or a client that
/// hangs up mid-upload (which drops the request's future) alike.
#[must_use = "dropping it removes the file"]
pub struct Provisional {
    key: String,
    path: PathBuf,
    /// Also in the shared store, so removed there too.
    remote: Option<Arc<dyn ObjectStore>>,
    kept: bool,
}

impl Provisional {
    fn new(store: &MediaStore, key: String, shared: bool) -> Result<Self, MediaError> {
        Ok(Provisional {
            path: store.path(&key)?,
            key,
            remote: store.remote.clone().filter(|_| shared),
            kept: false,
        })
    }

    pub fn key(&self) -> &str {
        &self.key
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The file is recorded where it belongs now: it stays. Answers its key.
    pub fn keep(mut self) -> String {
        self.kept = true;
        std::mem::take(&mut self.key)
    }
}

impl Drop for Provisional {
    fn drop(&mut self) {
        if self.kept {
            return;
        }
        // Synchronous, because a dropped future cannot await; unlinking one file is quick.
        let _ = std::fs::remove_file(&self.path);
        if let (Some(remote), Ok(runtime)) =
            (self.remote.take(), tokio::runtime::Handle::try_current())
        {
            let location = ObjectPath::from(self.key.as_str());
            runtime.spawn(async move {
                let _ = remote.delete(&location).await;
            });
        }
    }
}

/// Streams a local file to the shared store in parts, never holding it whole in memory.
async fn upload(remote: &dyn ObjectStore, key: &str, file: &Path) -> Result<(), MediaError> {
    let location = ObjectPath::from(key);
    let upload = remote.put_multipart(&location).await?;
    let mut writer = WriteMultipart::new_with_chunk_size(upload, UPLOAD_PART_BYTES);
    let mut source = tokio::fs::File::open(file).await?;
    let mut buffer = vec![0u8; 1024 * 1024];
    loop {
        let read = match source.read(&mut buffer).await {
            Ok(read) => read,
            Err(error) => {
                let _ = writer.abort().await;
                return Err(error.into());
            }
        };
        if read == 0 {
            break;
        }
        if let Err(error) = writer.wait_for_capacity(UPLOAD_PARTS_IN_FLIGHT).await {
            let _ = writer.abort().await;
            return Err(error.into());
        }
        writer.write(&buffer[..read]);
    }
    writer.finish().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_cannot_escape_the_root() {
        let store = MediaStore::new("/srv/media");
        assert_eq!(
            store.path("projects/a/video.mp4").unwrap(),
            PathBuf::from("/srv/media/projects/a/video.mp4")
        );
        for bad in [
            "",
            "../etc/passwd",
            "/etc/passwd",
            "projects/../../x",
            "./x",
        ] {
            assert!(store.path(bad).is_err(), "{bad}");
        }
    }

    #[tokio::test]
    async fn a_local_store_puts_fetches_and_removes() {
        let root = std::env::temp_dir().join(format!("reelforge-media-{}", Uuid::new_v4()));
        let store = MediaStore::new(&root);
        let scratch = store.scratch("txt").await.unwrap();
        tokio::fs::write(&scratch, b"hello").await.unwrap();
        store.put("projects/p/a.txt", &scratch).await.unwrap();
        let path = store.fetch("projects/p/a.txt").await.unwrap();
        assert_eq!(tokio::fs::read(&path).await.unwrap(), b"hello");
        assert!(matches!(
            store.fetch("projects/p/b.txt").await,
            Err(MediaError::Missing(_))
        ));
        store.remove_prefix("projects/p").await.unwrap();
        assert!(!path.exists());
        tokio::fs::remove_dir_all(root).await.unwrap();
    }
}
