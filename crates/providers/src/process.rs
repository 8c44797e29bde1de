//! Running external tools (ffprobe, ffmpeg, local engines): a time limit, the child killed when
//! the future is dropped (a canceled job leaves no orphan), and errors that say what to install.

use crate::error_code::ErrorCode;
use std::{ffi::OsStr, process::Stdio, time::Duration};

use tokio::process::Command;

use super::ProviderError;

/// Lines of stderr quoted when a tool fails.
const STDERR_TAIL_LINES: usize = 8;

#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    #[error("`{program}` is not installed or not on PATH{hint}")]
    NotFound { program: String, hint: String },
    #[error("`{program}` did not finish within {seconds} s")]
    TimedOut { program: String, seconds: u64 },
    #[error("`{program}` failed ({status}): {stderr}")]
    Failed {
        program: String,
        status: String,
        stderr: String,
    },
    #[error("could not run `{program}`: {source}")]
    Io {
        program: String,
        source: std::io::Error,
    },
}

impl From<ProcessError> for ProviderError {
    fn from(error: ProcessError) -> Self {
        match error {
            ProcessError::TimedOut { .. } => ProviderError::retryable(error.to_string()),
            ProcessError::NotFound { .. } => {
                ProviderError::fatal(ErrorCode::ToolMissing, error.to_string())
            }
            // ffmpeg writing its output onto a full disk.
            ProcessError::Failed { ref stderr, .. }
                if stderr.contains("No space left on device") =>
            {
                crate::storage_full()
            }
            ProcessError::Io { ref source, .. } if crate::media::is_storage_full(source) => {
                crate::storage_full()
            }
            ProcessError::Failed { .. } | ProcessError::Io { .. } => {
                ProviderError::fatal(ErrorCode::ToolFailed, error.to_string())
            }
        }
    }
}

/// Where `program` is on the `PATH`, if it is installed.
pub fn on_path(program: &str) -> Option<std::path::PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(program))
            .find(|path| path.is_file())
    })
}

fn install_hint(program: &str) -> &'static str {
    match program {
        "ffmpeg" | "ffprobe" => " (Debian: apt-get install ffmpeg)",
        "espeak-ng" => " (Debian: apt-get install espeak-ng)",
        _ => "",
    }
}

/// Time limit for ffprobe and short ffmpeg edits.
pub const TOOL_TIMEOUT: Duration = Duration::from_secs(120);

/// What ffprobe says of a media file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MediaInfo {
    pub duration_ms: u64,
    /// The picture's width and height as players show it: a phone's upright video is often
    /// stored on its side with a rotation to apply, which ffmpeg applies when decoding.
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub video_codec: Option<String>,
    pub audio_codec: Option<String>,
    pub sample_rate: Option<u32>,
    /// ffprobe's `format_name`, such as `mov,mp4,m4a,3gp,3g2,mj2` or `png_pipe`.
    pub container: Option<String>,
    /// The video's average frames a second.
    pub frame_rate: Option<f64>,
}

#[derive(serde::Deserialize)]
struct Probe {
    #[serde(default)]
    streams: Vec<ProbeStream>,
    format: Option<ProbeFormat>,
}

#[derive(serde::Deserialize)]
struct ProbeStream {
    codec_type: Option<String>,
    codec_name: Option<String>,
    width: Option<u32>,
    height: Option<u32>,
    sample_rate: Option<String>,
    avg_frame_rate: Option<String>,
    #[serde(default)]
    disposition: ProbeDisposition,
    /// ffmpeg 5 and later: the display matrix's rotation in degrees.
    #[serde(default)]
    side_data_list: Vec<ProbeSideData>,
    /// Older ffmpeg and some muxers: the `rotate` tag.
    #[serde(default)]
    tags: ProbeTags,
}

#[derive(serde::Deserialize)]
struct ProbeSideData {
    rotation: Option<f64>,
}

#[derive(serde::Deserialize, Default)]
struct ProbeTags {
    rotate: Option<String>,
}

impl ProbeStream {
    /// Width and height as shown: swapped when the picture is turned a quarter.
    fn shown_size(&self) -> (Option<u32>, Option<u32>) {
        let rotation = self
            .side_data_list
            .iter()
            .find_map(|data| data.rotation)
            .or_else(|| self.tags.rotate.as_deref().and_then(|r| r.parse().ok()))
            .unwrap_or(0.0);
        let sideways = (rotation / 90.0).round().rem_euclid(2.0) == 1.0;
        if sideways {
            (self.height, self.width)
        } else {
            (self.width, self.height)
        }
    }
}

#[derive(serde::Deserialize, Default)]
struct ProbeDisposition {
    /// Cover art in an audio file: a picture stream that is not a video.
    #[serde(default)]
    attached_pic: u8,
}

#[derive(serde::Deserialize)]
struct ProbeFormat {
    duration: Option<String>,
    format_name: Option<String>,
}

/// Reads a media file's duration, dimensions and codecs with ffprobe.
pub async fn probe(path: &std::path::Path) -> Result<MediaInfo, ProviderError> {
    let output = run(
        "ffprobe",
        [
            "-v".as_ref(),
            "error".as_ref(),
            "-print_format".as_ref(),
            "json".as_ref(),
            "-show_format".as_ref(),
            "-show_streams".as_ref(),
            path.as_os_str(),
        ],
        TOOL_TIMEOUT,
    )
    .await?;
    let probe: Probe = serde_json::from_slice(&output).map_err(|error| {
        ProviderError::fatal(ErrorCode::ToolFailed, format!("ffprobe output: {error}"))
    })?;
    let stream = |kind: &str| {
        probe
            .streams
            .iter()
            .find(|s| s.codec_type.as_deref() == Some(kind) && s.disposition.attached_pic == 0)
    };
    let (video, audio) = (stream("video"), stream("audio"));
    let container = probe.format.as_ref().and_then(|f| f.format_name.clone());
    let seconds = probe
        .format
        .and_then(|f| f.duration)
        .and_then(|d| d.parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s >= 0.0)
        .unwrap_or(0.0);
    let (width, height) = video.map_or((None, None), ProbeStream::shown_size);
    Ok(MediaInfo {
        duration_ms: (seconds * 1000.0).round() as u64,
        width,
        height,
        video_codec: video.and_then(|v| v.codec_name.clone()),
        audio_codec: audio.and_then(|a| a.codec_name.clone()),
        sample_rate: audio
            .and_then(|a| a.sample_rate.as_deref())
            .and_then(|r| r.parse().ok()),
        container,
        frame_rate: video
            .and_then(|v| v.avg_frame_rate.as_deref())
            .and_then(frame_rate),
    })
}

/// `30000/1001` as frames a second; none for ffprobe's `0/0`.
fn frame_rate(ratio: &str) -> Option<f64> {
    let (frames, seconds) = ratio.split_once('/').unwrap_or((ratio, "1"));
    let (frames, seconds): (f64, f64) = (frames.parse().ok()?, seconds.parse().ok()?);
    (seconds > 0.0 && frames > 0.0).then(|| frames / seconds)
}

/// A media file's duration in milliseconds, from ffprobe.
pub async fn duration_ms(path: &std::path::Path) -> Result<u64, ProviderError> {
    let info = probe(path).await?;
    if info.duration_ms == 0 {
        return Err(ProviderError::fatal(
            ErrorCode::NotAudio,
            "ffprobe found no duration",
        ));
    }
    Ok(info.duration_ms)
}

/// Writes `length_ms` of `input` from `start_ms` as a 16 kHz mono WAV.
pub async fn cut_wav(
    input: &std::path::Path,
    start_ms: u64,
    length_ms: u64,
    output: &std::path::Path,
) -> Result<(), ProviderError> {
    let seconds = |ms: u64| format!("{:.3}", ms as f64 / 1000.0);
    let (start, length) = (seconds(start_ms), seconds(length_ms));
    run(
        "ffmpeg",
        [
            "-v".as_ref(),
            "error".as_ref(),
            "-y".as_ref(),
            "-ss".as_ref(),
            start.as_ref(),
            "-t".as_ref(),
            length.as_ref(),
            "-i".as_ref(),
            input.as_os_str(),
            "-ac".as_ref(),
            "1".as_ref(),
            "-ar".as_ref(),
            "16000".as_ref(),
            output.as_os_str(),
        ],
        TOOL_TIMEOUT,
    )
    .await?;
    Ok(())
}

/// Runs `program` with `args`, answering its stdout when it exits successfully.
pub async fn run<I, S>(program: &str, args: I, timeout: Duration) -> Result<Vec<u8>, ProcessError>
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    run_output(program, args, timeout)
        .await
        .map(|output| output.stdout)
}

/// Runs `program` with `args`, answering what it printed on both streams when it exits
/// successfully (ffmpeg's measuring filters report on stderr).
pub async fn run_output<I, S>(
    program: &str,
    args: I,
    timeout: Duration,
) -> Result<std::process::Output, ProcessError>
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let args: Vec<S> = args.into_iter().collect();
    let child = Command::new(program)
        .args(&args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|source| match source.kind() {
            std::io::ErrorKind::NotFound => ProcessError::NotFound {
                program: program.to_owned(),
                hint: install_hint(program).to_owned(),
            },
            _ => ProcessError::Io {
                program: program.to_owned(),
                source,
            },
        })?;
    let output = tokio::time::timeout(timeout, child.wait_with_output())
        .await
        .map_err(|_| ProcessError::TimedOut {
            program: program.to_owned(),
            seconds: timeout.as_secs(),
        })?
        .map_err(|source| ProcessError::Io {
            program: program.to_owned(),
            source,
        })?;
    if output.status.success() {
        return Ok(output);
    }
    let stderr = without_server_paths(&String::from_utf8_lossy(&output.stderr), &args);
    let lines: Vec<&str> = stderr.lines().collect();
    Err(ProcessError::Failed {
        program: program.to_owned(),
        status: output.status.to_string(),
        stderr: lines[lines.len().saturating_sub(STDERR_TAIL_LINES)..].join(" | "),
    })
}

/// Tools quote the files they were given; an error text a client may read names each file by
/// its own name, never by where it lies on the server.
fn without_server_paths<S: AsRef<OsStr>>(stderr: &str, args: &[S]) -> String {
    let mut paths: Vec<&std::path::Path> = args
        .iter()
        .map(|arg| std::path::Path::new(arg.as_ref()))
        .filter(|path| path.is_absolute() || path.components().count() > 1)
        .collect();
    // Longest first, so a folder never masks part of a file inside it.
    paths.sort_by_key(|path| std::cmp::Reverse(path.as_os_str().len()));
    let mut text = stderr.to_owned();
    for path in paths {
        let (Some(full), Some(name)) = (path.to_str(), path.file_name().and_then(|n| n.to_str()))
        else {
            continue;
        };
        text = text.replace(full, name);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn failures_name_files_without_their_server_paths() {
        let scratch = std::env::temp_dir().join("reelforge-process-test-dir");
        std::fs::create_dir_all(&scratch).unwrap();
        let file = scratch.join("upload-1234.mp4");
        std::fs::write(&file, b"not a video").unwrap();
        let error = run("ffprobe", [file.as_os_str()], Duration::from_secs(20))
            .await
            .unwrap_err()
            .to_string();
        assert!(error.contains("upload-1234.mp4"), "{error}");
        assert!(!error.contains(scratch.to_str().unwrap()), "{error}");
    }

    #[tokio::test]
    async fn a_video_stored_on_its_side_is_measured_as_shown() {
        let dir = std::env::temp_dir().join(format!("reelforge-rotated-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("landscape.mp4");
        run(
            "ffmpeg",
            [
                "-v",
                "error",
                "-f",
                "lavfi",
                "-i",
                "testsrc2=size=320x180:rate=30:d=0.2",
                "-c:v",
                "libx264",
                "-preset",
                "ultrafast",
                file.to_str().unwrap(),
            ],
            Duration::from_secs(30),
        )
        .await
        .unwrap();
        let info = probe(&file).await.unwrap();
        assert_eq!((info.width, info.height), (Some(320), Some(180)));
        // A phone held upright records 320x180 with a quarter turn in the track header's
        // matrix (after `tkhd`: version and flags, five 32-bit fields, 8 reserved bytes, four
        // 16-bit ones, then the matrix in 16.16 and 2.30 fixed point).
        let mut bytes = std::fs::read(&file).unwrap();
        let header = bytes
            .windows(4)
            .position(|window| window == b"tkhd")
            .unwrap();
        let matrix: Vec<u8> = [0, 0x10000, 0, -0x10000, 0, 0, 0, 0, 0x4000_0000_i32]
            .iter()
            .flat_map(|value| value.to_be_bytes())
            .collect();
        bytes[header + 44..header + 80].copy_from_slice(&matrix);
        std::fs::write(&file, bytes).unwrap();
        let info = probe(&file).await.unwrap();
        assert_eq!((info.width, info.height), (Some(180), Some(320)));
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[tokio::test]
    async fn missing_tools_failures_and_timeouts_are_told_apart() {
        let missing = run("reelforge-no-such-tool", ["x"], Duration::from_secs(5))
            .await
            .unwrap_err();
        assert!(
            matches!(missing, ProcessError::NotFound { .. }),
            "{missing}"
        );
        let failed = run(
            "sh",
            ["-c", "echo first >&2; echo boom >&2; exit 3"],
            Duration::from_secs(5),
        )
        .await
        .unwrap_err();
        assert_eq!(
            failed.to_string(),
            "`sh` failed (exit status: 3): first | boom"
        );
        let started = std::time::Instant::now();
        let slow = run("sleep", ["10"], Duration::from_millis(200))
            .await
            .unwrap_err();
        assert!(matches!(slow, ProcessError::TimedOut { .. }));
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "killed, not waited for"
        );
        assert_eq!(
            run("sh", ["-c", "printf ok"], Duration::from_secs(5))
                .await
                .unwrap(),
            b"ok"
        );
    }
}
