//! Where media files live: keys like `projects/{project}/reels/{reel}/video.mp4` under the
//! configured root on the local filesystem.

use std::path::{Component, Path, PathBuf};

use uuid::Uuid;

#[derive(Debug, Clone)]
pub struct MediaStore {
    root: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    #[error("invalid media key `{0}`")]
    InvalidKey(String),
    #[error("media storage failed: {0}")]
    Io(#[from] std::io::Error),
}

impl MediaStore {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        MediaStore { root: root.into() }
    }

    /// The file behind `key`; keys are relative paths without `..`.
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

    /// Moves a finished file to `key`.
    pub async fn put(&self, key: &str, file: &Path) -> Result<(), MediaError> {
        let target = self.path(key)?;
        if let Some(parent) = target.parent() {
            tokio::fs::create_dir_all(parent).await?;
        }
        tokio::fs::rename(file, &target).await?;
        Ok(())
    }

    /// The SHA-256 of a stored file, read in chunks.
    pub async fn sha256(path: &Path) -> Result<String, MediaError> {
        use sha2::{Digest, Sha256};
        use tokio::io::AsyncReadExt;
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
}
