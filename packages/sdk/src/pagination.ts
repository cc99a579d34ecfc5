/** One page of a list, newest first. */
export interface Page<T> {
  data: T[];
  /** Pass as `cursor` to get the next page; null on the last page. */
  nextCursor: string | null;
}

/**
 * A list call. Nothing is sent until it is used: `for await (const item of list)` walks every
 * item of every page; `page()` fetches one page (from the `cursor` given to `list()`, if any);
 * `pages()` walks page by page.
 */
export class Paginator<T> implements AsyncIterable<T> {
  readonly #fetchPage: (cursor: string | undefined) => Promise<Page<T>>;
  readonly #cursor: string | undefined;

  /** @internal Made by the resources' `list` methods. */
  constructor(fetchPage: (cursor: string | undefined) => Promise<Page<T>>, cursor?: string) {
    this.#fetchPage = fetchPage;
    this.#cursor = cursor;
  }

  /** One page: the first, or the one at the `cursor` given to `list()`. */
  page(): Promise<Page<T>> {
    return this.#fetchPage(this.#cursor);
  }

  /** Every page, fetched one at a time as the loop asks for it. */
  async *pages(): AsyncGenerator<Page<T>, void, undefined> {
    let cursor = this.#cursor;
    for (;;) {
      const page = await this.#fetchPage(cursor);
      yield page;
      if (page.nextCursor === null) return;
      if (page.nextCursor === cursor) {
        throw new Error('Hookline: the gateway answered the same cursor twice; stopping the list.');
      }
      cursor = page.nextCursor;
    }
  }

  /** Every item of every page. */
  async *[Symbol.asyncIterator](): AsyncGenerator<T, void, undefined> {
    for await (const page of this.pages()) yield* page.data;
  }
}
