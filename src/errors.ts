/**
 * Typed errors. Every failure a caller can act on has its own class and carries the
 * coordinates of the problem (file, line, field, id, section) as properties, so code can
 * branch on `instanceof` and people can read the message.
 */

export class HybridrecError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    // Subclasses here set their name as a literal (a minifying bundler renames classes);
    // a subclass elsewhere gets its class name.
    this.name = new.target === HybridrecError ? 'HybridrecError' : new.target.name;
  }
}

/** Malformed input data: a CSV row, a field, a value. `line` is 1-based and counts the header. */
export class DataError extends HybridrecError {
  override name = 'DataError';
  readonly file?: string;
  readonly line?: number;
  readonly field?: string;
  constructor(message: string, where: { file?: string; line?: number; field?: string } = {}) {
    const at = [
      where.file !== undefined ? `file ${where.file}` : '',
      where.line !== undefined ? `line ${where.line}` : '',
      where.field !== undefined ? `field "${where.field}"` : '',
    ]
      .filter(Boolean)
      .join(', ');
    super(at ? `${message} (${at})` : message);
    this.file = where.file;
    this.line = where.line;
    this.field = where.field;
  }
}

/** No data to work with (no rows, no users, no items). */
export class EmptyDataError extends HybridrecError {
  override name = 'EmptyDataError';
}

/** A user or item id that the fitted model has never seen, where one is required. `field` names the argument (e.g. "shopper.history[3]"). */
export class UnknownIdError extends HybridrecError {
  override name = 'UnknownIdError';
  readonly kind: 'user' | 'item';
  readonly id: string;
  readonly field?: string;
  constructor(kind: 'user' | 'item', id: string, field?: string) {
    super(`unknown ${kind} id "${id}"${field !== undefined ? ` (${field})` : ''}`);
    this.kind = kind;
    this.id = id;
    this.field = field;
  }
}

/**
 * A user id given to a recommender saved without customer data (save({ customerData: false })):
 * a serving artifact knows no users, so the request must bring the shopper's history. A
 * subclass of UnknownIdError (the id is unknown to it), never a silent cold start.
 */
export class NoCustomerDataError extends UnknownIdError {
  override name = 'NoCustomerDataError';
  constructor(id: string, field?: string) {
    super('user', id, field);
    this.message = `user id "${id}"${field !== undefined ? ` (${field})` : ''}: this recommender was saved without customer data (a serving artifact holds no user ids or histories); pass the shopper's history with the request: { history, baskets, basket }`;
  }
}

/** Invalid option or argument (NaN weight, negative k, unknown strategy name...). */
export class OptionError extends HybridrecError {
  override name = 'OptionError';
  readonly option: string;
  constructor(option: string, message: string) {
    super(`${option}: ${message}`);
    this.option = option;
  }
}

/** A method that needs a fitted model was called before fit() or load(). */
export class NotFittedError extends HybridrecError {
  override name = 'NotFittedError';
  constructor(what: string) {
    super(`${what} is not fitted: call fit() or load() first`);
  }
}

/**
 * A corrupt, truncated or incompatible artifact. `section` names the part that failed (a
 * section name, "header" or "manifest"), `field` the value inside it ("sections[3].offset",
 * "[17]" for an array element, "length").
 */
export class ArtifactError extends HybridrecError {
  override name = 'ArtifactError';
  readonly section?: string;
  readonly field?: string;
  constructor(message: string, section?: string, field?: string) {
    const at = [section !== undefined ? `section "${section}"` : '', field !== undefined ? `field "${field}"` : ''].filter(Boolean).join(', ');
    super(at ? `${message} (${at})` : message);
    this.section = section;
    this.field = field;
  }
}

/** An artifact written by a newer format version than this library reads. */
export class ArtifactVersionError extends ArtifactError {
  override name = 'ArtifactVersionError';
  readonly found: number;
  readonly supported: number;
  constructor(found: number, supported: number) {
    super(`artifact format version ${found} is newer than the supported version ${supported}; upgrade hybridrec`);
    this.found = found;
    this.supported = supported;
  }
}

/** An optional package that a fit (or an encoder) needs is not installed. */
export class MissingDependencyError extends HybridrecError {
  override name = 'MissingDependencyError';
  readonly package: string;
  constructor(pkg: string, neededBy: string) {
    super(`${neededBy} needs the optional package ${pkg}, which is not installed: npm install ${pkg}`);
    this.package = pkg;
  }
}

/** Work stopped because its AbortSignal fired. */
export class AbortedError extends HybridrecError {
  override name = 'AbortedError';
  constructor(what: string) {
    super(`${what} was aborted`);
  }
}

/** Throws AbortedError when the signal has fired; call it between chunks of long work. */
export function throwIfAborted(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted) throw new AbortedError(what);
}
