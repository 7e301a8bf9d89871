//! Understanding media files: what they are (sniffed from their bytes), their dimensions,
//! duration and EXIF details.

pub(crate) mod inspect;
