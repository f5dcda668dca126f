//! A `guardians.csv` as an import holds it: in a file, never in memory. An upload is
//! written to an unnamed temporary file as its pieces arrive (refused once it passes
//! [`MAX_FILE_BYTES`]); a dropped file is read where it lies. Every pass over the file
//! reads it a block at a time, and the checks read single rows back by their offset.

use std::fs::File;
use std::io::{self, BufWriter, Read, Write};

/// The largest file an import takes.
pub const MAX_FILE_BYTES: usize = 64 * 1024 * 1024;

/// Bytes written to the temporary file at a time.
const WRITE_BUFFER: usize = 64 * 1024;

/// Why an upload was not taken.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    #[error("the file is larger than the {MAX_FILE_BYTES} bytes an import takes")]
    TooLarge,
    #[error("cannot keep the file while it is imported: {0}")]
    Io(#[from] io::Error),
}

/// A whole file, ready to be imported.
#[derive(Debug)]
pub struct Upload {
    file: File,
    len: u64,
}

/// An upload being received, piece by piece.
#[derive(Debug)]
pub struct UploadWriter {
    file: BufWriter<File>,
    len: u64,
}

impl UploadWriter {
    /// An empty upload in a new temporary file (removed when the upload is dropped, or
    /// by the system should the process die).
    pub fn new() -> Result<Self, UploadError> {
        Ok(UploadWriter {
            file: BufWriter::with_capacity(WRITE_BUFFER, tempfile::tempfile()?),
            len: 0,
        })
    }

    /// Adds the next bytes of the file; refused once the file would be larger than an
    /// import takes.
    pub fn write(&mut self, bytes: &[u8]) -> Result<(), UploadError> {
        let len = self.len + bytes.len() as u64;
        if len > MAX_FILE_BYTES as u64 {
            return Err(UploadError::TooLarge);
        }
        self.file.write_all(bytes)?;
        self.len = len;
        Ok(())
    }

    /// The whole upload.
    pub fn finish(self) -> Result<Upload, UploadError> {
        let file = self
            .file
            .into_inner()
            .map_err(io::IntoInnerError::into_error)?;
        Ok(Upload {
            file,
            len: self.len,
        })
    }
}

impl Upload {
    /// A file as it lies on disk (a dropped file): refused if larger than an import takes.
    pub fn from_file(file: File) -> Result<Self, UploadError> {
        let len = file.metadata()?.len();
        if len > MAX_FILE_BYTES as u64 {
            return Err(UploadError::TooLarge);
        }
        Ok(Upload { file, len })
    }

    /// `bytes` as an upload (tests, and small files built in memory).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, UploadError> {
        let mut w = UploadWriter::new()?;
        w.write(bytes)?;
        w.finish()
    }

    /// The file's size in bytes.
    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The file from byte `offset` on.
    pub(super) fn reader_at(&self, offset: u64) -> ReadAt<'_> {
        ReadAt {
            upload: self,
            offset,
        }
    }
}

/// Reads an upload from an offset on, by positional reads: any number of readers may
/// read one upload at once.
#[derive(Debug)]
pub(super) struct ReadAt<'a> {
    upload: &'a Upload,
    offset: u64,
}

impl Read for ReadAt<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.upload.len.saturating_sub(self.offset);
        let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        if want == 0 {
            return Ok(0);
        }
        let n = read_at(&self.upload.file, &mut buf[..want], self.offset)?;
        self.offset += n as u64;
        Ok(n)
    }
}

#[cfg(unix)]
fn read_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    std::os::unix::fs::FileExt::read_at(file, buf, offset)
}

#[cfg(windows)]
fn read_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    std::os::windows::fs::FileExt::seek_read(file, buf, offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_upload_reads_back_from_any_offset_and_refuses_more_than_an_import_takes() {
        let mut w = UploadWriter::new().expect("upload");
        for piece in ["student_id,", "first_name\n", "7,Ana\n"] {
            w.write(piece.as_bytes()).expect("piece");
        }
        let upload = w.finish().expect("whole");
        assert_eq!(upload.len(), 28);
        let mut all = String::new();
        upload.reader_at(0).read_to_string(&mut all).expect("read");
        assert_eq!(all, "student_id,first_name\n7,Ana\n");
        let mut tail = String::new();
        upload
            .reader_at(22)
            .read_to_string(&mut tail)
            .expect("read");
        assert_eq!(tail, "7,Ana\n");

        let mut w = UploadWriter::new().expect("upload");
        w.write(&vec![b'x'; MAX_FILE_BYTES])
            .expect("the largest file");
        assert!(matches!(w.write(b"x"), Err(UploadError::TooLarge)));
    }
}
