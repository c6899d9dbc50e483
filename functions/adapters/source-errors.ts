/** The source snapshot could not be produced (unknown commit, no git, GitHub refusing). Infrastructure, not the user's stage. */
export class SourceUnavailable extends Error {
  override readonly name = 'SourceUnavailable';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
