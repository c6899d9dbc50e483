/**
 * Why a streamed object could not be read to its end. Both name the object's key: the stage's
 * log and the build's report show the message, and the reader must know which object it was.
 */

/** The connection was cut (or went silent) more often than a read resumes; the bytes so far are in the message. */
export class ObjectReadInterrupted extends Error {
  override readonly name = 'ObjectReadInterrupted';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/**
 * The object was replaced between the first bytes and a resume (S3 answered 412 to `If-Match`,
 * or the resumed answer carried another ETag): the bytes already read belong to another version,
 * so nothing is stitched together.
 */
export class ObjectChangedWhileRead extends Error {
  override readonly name = 'ObjectChangedWhileRead';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
