//! What an egress request asks for, as the results its info reports: a file per file
//! output, a stream per URL (the stream key redacted as livekit redacts it), a playlist per
//! segmented output; and the request as the info carries it, with keys and secrets redacted.

use livekit_protocol as proto;

/// Bytes per second of a composite recording (3 Mbit/s of video and audio).
const VIDEO_BYTES_PER_SEC: i64 = 375_000;
/// Bytes per second of an audio-only recording (128 kbit/s).
const AUDIO_BYTES_PER_SEC: i64 = 16_000;
/// The egress service's default segment length.
const SEGMENT_SECS: i64 = 4;

/// The outputs of a room composite, web or track composite request: its lists, and the
/// deprecated single `output` the SDKs still send. Each of these requests declares an `Output`
/// enum of its own (in `$output_module`) with the same three variants, which no one function
/// could take.
macro_rules! encoded_outputs {
    ($request:expr, $output_module:ident, $audio_only:expr) => {{
        use proto::$output_module::Output;
        let mut outputs = Outputs {
            audio_only: $audio_only,
            ..Outputs::default()
        };
        outputs.add_encoded(
            &$request.file_outputs,
            &$request.stream_outputs,
            &$request.segment_outputs,
        );
        #[expect(
            deprecated,
            reason = "the single `output` is deprecated, but the SDKs still send it"
        )]
        match &$request.output {
            Some(Output::File(file)) => outputs.add_encoded(std::slice::from_ref(file), &[], &[]),
            Some(Output::Stream(stream)) => {
                outputs.add_encoded(&[], std::slice::from_ref(stream), &[]);
            }
            Some(Output::Segments(segments)) => {
                outputs.add_encoded(&[], &[], std::slice::from_ref(segments));
            }
            None => {}
        }
        outputs
    }};
}

/// The outputs of any kind of request, old single-output form included.
#[derive(Debug, Default)]
pub(super) struct Outputs {
    files: Vec<String>,
    file_uploads: Vec<Option<Upload>>,
    streams: Vec<String>,
    segments: Vec<(String, Option<Upload>)>,
    audio_only: bool,
}

/// Where a file goes when it is not kept on the egress host.
#[derive(Debug, Clone)]
enum Upload {
    S3 { bucket: String, region: String },
    Gcp { bucket: String },
}

impl Upload {
    fn s3(s3: &proto::S3Upload) -> Self {
        Self::S3 {
            bucket: s3.bucket.clone(),
            region: s3.region.clone(),
        }
    }

    fn gcp(gcp: &proto::GcpUpload) -> Self {
        Self::Gcp {
            bucket: gcp.bucket.clone(),
        }
    }

    fn location(&self, path: &str) -> String {
        match self {
            Self::S3 { bucket, region } if region.is_empty() => {
                format!("https://{bucket}.s3.amazonaws.com/{path}")
            }
            Self::S3 { bucket, region } => {
                format!("https://{bucket}.s3.{region}.amazonaws.com/{path}")
            }
            Self::Gcp { bucket } => format!("https://storage.googleapis.com/{bucket}/{path}"),
        }
    }
}

impl Outputs {
    pub(super) fn audio_only(&self) -> bool {
        self.audio_only
    }

    pub(super) fn is_empty(&self) -> bool {
        self.files.is_empty() && self.streams.is_empty() && self.segments.is_empty()
    }

    fn add_encoded(
        &mut self,
        files: &[proto::EncodedFileOutput],
        streams: &[proto::StreamOutput],
        segments: &[proto::SegmentedFileOutput],
    ) {
        for file in files {
            use proto::encoded_file_output::Output;
            let upload = match &file.output {
                Some(Output::S3(s3)) => Some(Upload::s3(s3)),
                Some(Output::Gcp(gcp)) => Some(Upload::gcp(gcp)),
                _ => None,
            };
            self.files.push(file.filepath.clone());
            self.file_uploads.push(upload);
        }
        for stream in streams {
            self.streams.extend(stream.urls.iter().cloned());
        }
        for segmented in segments {
            use proto::segmented_file_output::Output;
            let upload = match &segmented.output {
                Some(Output::S3(s3)) => Some(Upload::s3(s3)),
                Some(Output::Gcp(gcp)) => Some(Upload::gcp(gcp)),
                _ => None,
            };
            let playlist = if segmented.playlist_name.is_empty() {
                format!("{}.m3u8", segmented.filename_prefix)
            } else {
                segmented.playlist_name.clone()
            };
            self.segments.push((playlist, upload));
        }
    }

    pub(super) fn of_room_composite(request: &proto::RoomCompositeEgressRequest) -> Self {
        encoded_outputs!(request, room_composite_egress_request, request.audio_only)
    }

    pub(super) fn of_web(request: &proto::WebEgressRequest) -> Self {
        encoded_outputs!(request, web_egress_request, request.audio_only)
    }

    pub(super) fn of_participant(request: &proto::ParticipantEgressRequest) -> Self {
        let mut outputs = Self::default();
        outputs.add_encoded(
            &request.file_outputs,
            &request.stream_outputs,
            &request.segment_outputs,
        );
        outputs
    }

    pub(super) fn of_track_composite(request: &proto::TrackCompositeEgressRequest) -> Self {
        encoded_outputs!(
            request,
            track_composite_egress_request,
            request.video_track_id.is_empty()
        )
    }

    pub(super) fn of_track(request: &proto::TrackEgressRequest) -> Self {
        use proto::track_egress_request::Output;
        let mut outputs = Self::default();
        match &request.output {
            Some(Output::File(file)) => {
                let path = if file.filepath.is_empty() {
                    format!("{}-{{time}}", request.track_id)
                } else {
                    file.filepath.clone()
                };
                let upload = match &file.output {
                    Some(proto::direct_file_output::Output::S3(s3)) => Some(Upload::s3(s3)),
                    Some(proto::direct_file_output::Output::Gcp(gcp)) => Some(Upload::gcp(gcp)),
                    _ => None,
                };
                outputs.files.push(path);
                outputs.file_uploads.push(upload);
            }
            Some(Output::WebsocketUrl(url)) => outputs.streams.push(url.clone()),
            None => {}
        }
        outputs
    }

    /// The results as the info shows them when the egress starts: names and URLs, nothing
    /// written yet.
    pub(super) fn results(&self, info: &mut proto::EgressInfo, now_ms: i64) {
        let time = file_time(now_ms);
        let fill = |template: &str| {
            template
                .replace("{room_name}", &info.room_name)
                .replace("{room_id}", &info.room_id)
                .replace("{time}", &time)
        };
        let extension = if self.audio_only { "ogg" } else { "mp4" };
        let file_results = self
            .files
            .iter()
            .zip(&self.file_uploads)
            .map(|(path, upload)| {
                let mut filename = if path.is_empty() || path.ends_with('/') {
                    format!("{path}{{room_name}}-{{time}}")
                } else {
                    path.clone()
                };
                filename = fill(&filename);
                if !filename.contains('.') {
                    filename = format!("{filename}.{extension}");
                }
                let location = upload
                    .as_ref()
                    .map_or_else(|| filename.clone(), |upload| upload.location(&filename));
                proto::FileInfo {
                    filename,
                    location,
                    ..proto::FileInfo::default()
                }
            })
            .collect();
        let stream_results = self
            .streams
            .iter()
            .map(|url| proto::StreamInfo {
                url: redact_stream_key(url),
                status: proto::stream_info::Status::Active as i32,
                ..proto::StreamInfo::default()
            })
            .collect();
        let segment_results = self
            .segments
            .iter()
            .map(|(playlist, upload)| {
                let playlist_name = fill(playlist);
                let playlist_location = upload.as_ref().map_or_else(
                    || playlist_name.clone(),
                    |upload| upload.location(&playlist_name),
                );
                proto::SegmentsInfo {
                    playlist_name,
                    playlist_location,
                    ..proto::SegmentsInfo::default()
                }
            })
            .collect();
        info.file_results = file_results;
        info.stream_results = stream_results;
        info.segment_results = segment_results;
    }
}

/// The results once the egress is active: everything starts now (ns).
pub(super) fn mark_started(info: &mut proto::EgressInfo, now_ns: i64) {
    for file in &mut info.file_results {
        file.started_at = now_ns;
    }
    for stream in &mut info.stream_results {
        stream.started_at = now_ns;
    }
    for segments in &mut info.segment_results {
        segments.started_at = now_ns;
    }
}

/// The results once the egress ended at `now_ns`: durations, sizes, segment counts; the
/// streams finished, or failed with the egress.
pub(super) fn mark_ended(
    info: &mut proto::EgressInfo,
    now_ns: i64,
    failed: bool,
    audio_only: bool,
) {
    let bytes_per_sec = if audio_only {
        AUDIO_BYTES_PER_SEC
    } else {
        VIDEO_BYTES_PER_SEC
    };
    let length = |started_at: i64| {
        if started_at > 0 {
            now_ns - started_at
        } else {
            0
        }
    };
    for file in &mut info.file_results {
        file.ended_at = now_ns;
        file.duration = length(file.started_at);
        file.size = file.duration / 1_000_000_000 * bytes_per_sec;
    }
    let stream_status = if failed {
        proto::stream_info::Status::Failed
    } else {
        proto::stream_info::Status::Finished
    };
    for stream in &mut info.stream_results {
        stream.ended_at = now_ns;
        stream.duration = length(stream.started_at);
        stream.status = stream_status as i32;
    }
    for segments in &mut info.segment_results {
        segments.ended_at = now_ns;
        segments.duration = length(segments.started_at);
        segments.segment_count = segments.duration / 1_000_000_000 / SEGMENT_SECS;
        segments.size = segments.duration / 1_000_000_000 * bytes_per_sec;
    }
}

/// `2024-06-11T100000`, the egress service's `{time}`.
fn file_time(now_ms: i64) -> String {
    let at = std::time::UNIX_EPOCH
        + std::time::Duration::from_millis(u64::try_from(now_ms).unwrap_or(0));
    humantime::format_rfc3339_seconds(at)
        .to_string()
        .trim_end_matches('Z')
        .replace(':', "")
}

/// An RTMP URL with its stream key shown as `{abc...xyz}` (livekit/protocol
/// `utils.RedactStreamKey`: `rtmp(s)://{host}(/{path})/{app}/{stream_key}`); any other URL
/// as it is.
pub(crate) fn redact_stream_key(url: &str) -> String {
    let Some(scheme_end) = ["rtmp://", "rtmps://"]
        .iter()
        .find(|scheme| url.starts_with(*scheme))
        .map(|scheme| scheme.len())
    else {
        return url.to_owned();
    };
    let (url, live) = match url.strip_suffix(" live=1") {
        Some(rest) => (rest, " live=1"),
        None => (url, ""),
    };
    let rest = &url[scheme_end..];
    // The key follows the last slash, and the app must be a path segment of its own.
    let Some(key_start) = rest.rfind('/') else {
        return format!("{url}{live}");
    };
    if !rest[..key_start].contains('/') || rest[key_start + 1..].contains(char::is_whitespace) {
        return format!("{url}{live}");
    }
    let key = &rest[key_start + 1..];
    let shown = (1..=3).rev().find(|n| key.len() >= n * 3).unwrap_or(0);
    let (prefix, suffix) = if key.is_char_boundary(shown) && key.is_char_boundary(key.len() - shown)
    {
        (&key[..shown], &key[key.len() - shown..])
    } else {
        ("", "")
    };
    format!(
        "{}{}{{{prefix}...{suffix}}}{live}",
        &url[..scheme_end],
        &rest[..=key_start]
    )
}

/// The request as the info carries it: stream keys and storage secrets redacted, as the
/// egress service stores it.
#[expect(
    deprecated,
    reason = "the single `output` is deprecated, but the SDKs still send it"
)]
pub(super) fn redact_request(request: &mut proto::egress_info::Request) {
    use proto::egress_info::Request;
    let lists = match request {
        Request::RoomComposite(r) => Some((&mut r.file_outputs, &mut r.stream_outputs)),
        Request::Web(r) => Some((&mut r.file_outputs, &mut r.stream_outputs)),
        Request::Participant(r) => Some((&mut r.file_outputs, &mut r.stream_outputs)),
        Request::TrackComposite(r) => Some((&mut r.file_outputs, &mut r.stream_outputs)),
        _ => None,
    };
    let (files, streams) = lists.map_or((&mut [][..], &mut [][..]), |(files, streams)| {
        (files.as_mut_slice(), streams.as_mut_slice())
    });
    for stream in streams {
        for url in &mut stream.urls {
            *url = redact_stream_key(url);
        }
    }
    for file in files {
        if let Some(proto::encoded_file_output::Output::S3(s3)) = &mut file.output {
            redact(&mut s3.access_key, "{access_key}");
            redact(&mut s3.secret, "{secret}");
        }
        if let Some(proto::encoded_file_output::Output::Gcp(gcp)) = &mut file.output {
            redact(&mut gcp.credentials, "{credentials}");
        }
    }
    // The old single-output form.
    let single_stream = match request {
        Request::RoomComposite(r) => match &mut r.output {
            Some(proto::room_composite_egress_request::Output::Stream(s)) => Some(s),
            _ => None,
        },
        Request::Web(r) => match &mut r.output {
            Some(proto::web_egress_request::Output::Stream(s)) => Some(s),
            _ => None,
        },
        Request::TrackComposite(r) => match &mut r.output {
            Some(proto::track_composite_egress_request::Output::Stream(s)) => Some(s),
            _ => None,
        },
        _ => None,
    };
    if let Some(stream) = single_stream {
        for url in &mut stream.urls {
            *url = redact_stream_key(url);
        }
    }
}

/// livekit/protocol `utils.Redact`: a set value becomes its name.
fn redact(value: &mut String, name: &str) {
    if !value.is_empty() {
        name.clone_into(value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_keys_are_redacted_as_livekit_redacts_them() {
        assert_eq!(
            redact_stream_key("rtmp://a.rtmp.youtube.com/live2/abcd-efgh-ijkl"),
            "rtmp://a.rtmp.youtube.com/live2/{abc...jkl}"
        );
        assert_eq!(
            redact_stream_key("rtmps://host:443/app/sk12 live=1"),
            "rtmps://host:443/app/{s...2} live=1"
        );
        assert_eq!(redact_stream_key("rtmp://host/ab"), "rtmp://host/ab");
        assert_eq!(
            redact_stream_key("wss://example.com/ws/key"),
            "wss://example.com/ws/key"
        );
        assert_eq!(file_time(0), "1970-01-01T000000");
    }
}
