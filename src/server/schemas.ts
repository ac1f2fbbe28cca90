/**
 * The JSON schemas of every route: fastify validates each request with them (strictly: no
 * type coercion, no unknown fields) and @fastify/swagger turns the same objects into the
 * OpenAPI 3 document at /docs. Limits come from the server options.
 */

export interface SchemaLimits {
  /** Most item ids in one request's history, baskets (all lines), cart or exclude list. */
  maxItems: number;
  /** Most shoppers in one batch request. */
  maxBatch: number;
  /** Largest k. */
  maxK: number;
  /** Largest k with explain. */
  maxExplainK: number;
}

const id = (what: string) => ({ type: 'string', minLength: 1, maxLength: 1024, description: `${what} id (a string, as in the training data)` }) as const;

export function schemas(limits: SchemaLimits) {
  const itemList = (description: string) => ({ type: 'array', maxItems: limits.maxItems, items: id('item'), description }) as const;
  const k = { type: 'integer', minimum: 1, maximum: limits.maxK, default: 10, description: `how many items, 1..${limits.maxK} (in a query string: decimal digits only)` } as const;
  const explain = { type: 'boolean', default: false, description: `attach reasons (because) and the main reason in words, for k <= ${limits.maxExplainK}; in a query string: true, false, 1 or 0` } as const;
  const excludePurchased = { type: 'boolean', description: "leave out items the shopper bought before (default: the model's setting)" } as const;
  const list = {
    type: 'string',
    enum: ['all', 'buy-again', 'discover'],
    default: 'all',
    description: "which list: 'all' (re-buys and new items), 'buy-again' (only items the shopper bought before, by re-buy likelihood now) or 'discover' (only items new to the shopper, none in the cart)",
  } as const;

  const shopperFields = {
    user: id('user'),
    history: itemList('past purchases, repeats count; with history or baskets the request is the source of truth and user is not looked up'),
    baskets: {
      type: 'array',
      maxItems: limits.maxItems,
      items: { type: 'array', maxItems: limits.maxItems, items: id('item') },
      description: 'past orders, oldest first (the timeline repeat and next-basket strategies use)',
    },
    days: { type: 'array', maxItems: limits.maxItems, items: { type: 'number' }, description: 'day of each past order (one per basket, non-decreasing)' },
    basket: itemList('the current cart: context, never recommended back'),
  } as const;
  const shopperObject = { type: 'object', additionalProperties: false, properties: shopperFields } as const;
  const unknownItems = {
    type: 'string',
    enum: ['error', 'skip'],
    default: 'error',
    description: "an item id the model does not know: 'error' (404 naming the field) or 'skip' (left out, listed in the answer's skipped)",
  } as const;
  const listOptions = { k, explain, excludePurchased, list, exclude: itemList('item ids never to return in this answer'), unknownItems } as const;

  const reason = {
    type: 'object',
    properties: {
      strategy: { type: 'string' },
      contribution: { type: 'number' },
      text: { type: 'string' },
      items: { type: 'array', items: { type: 'string' } },
    },
  } as const;
  const recommendation = {
    type: 'object',
    required: ['item', 'name', 'score', 'sources'],
    properties: {
      item: { type: 'string' },
      name: { type: 'string' },
      score: { type: 'number' },
      sources: { type: 'object', additionalProperties: { type: 'number' }, description: "each strategy's weighted normalized part of the score" },
      reason: { type: 'string', description: 'the main reason in words (with explain)' },
      because: { type: 'array', items: reason },
      features: {
        type: 'array',
        description: 'with explain and a reranker: the features that moved the item most',
        items: { type: 'object', properties: { feature: { type: 'string' }, value: { type: ['number', 'null'] }, contribution: { type: 'number' } } },
      },
    },
  } as const;
  const skipped = {
    type: 'array',
    description: "with unknownItems 'skip': each unknown item id left out, and the request field it was in",
    items: { type: 'object', properties: { id: { type: 'string' }, field: { type: 'string' } } },
  } as const;
  const answerList = { type: 'object', required: ['items'], properties: { items: { type: 'array', items: recommendation }, skipped } } as const;
  const error = {
    type: 'object',
    required: ['error', 'type'],
    properties: {
      error: { type: 'string', description: 'what went wrong, in words' },
      type: { type: 'string', description: 'ValidationError, UnknownIdError, OptionError, PayloadTooLarge, NotFound, Overloaded, ArtifactError...' },
      field: { type: 'string', description: 'the request field at fault (e.g. k, history[3])' },
    },
  } as const;
  const errors = { 400: error, 404: error, 413: error, 503: error } as const;
  const modelInfo = {
    type: 'object',
    properties: {
      libraryVersion: { type: 'string' },
      formatVersion: { type: 'integer' },
      sha256: { type: 'string' },
      bytes: { type: 'integer' },
      strategies: { type: 'array', items: { type: 'string' } },
      weights: { type: 'object', additionalProperties: { type: 'number' } },
      users: { type: 'integer' },
      items: { type: 'integer' },
      customerData: { type: 'boolean' },
    },
  } as const;

  return {
    recommendGet: {
      summary: 'Recommendations for a user the model knows',
      tags: ['recommend'],
      querystring: { type: 'object', additionalProperties: false, required: ['user'], properties: { user: id('user'), k, explain, excludePurchased, list } },
      response: { 200: answerList, ...errors },
    },
    recommendPost: {
      summary: 'Recommendations for a shopper described in the request (history, baskets, cart)',
      description: 'The serving-artifact path: the shop sends the history from its own database. { "user": "42" } alone uses the stored history; { "history": [] } is an explicit cold start; { "basket": [...] } alone completes an anonymous cart.',
      tags: ['recommend'],
      body: { type: 'object', additionalProperties: false, properties: { ...shopperFields, ...listOptions } },
      response: { 200: answerList, ...errors },
    },
    recommendBatch: {
      summary: 'Recommendations for many shoppers in one request',
      tags: ['recommend'],
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['shoppers'],
        properties: {
          shoppers: { type: 'array', minItems: 1, maxItems: limits.maxBatch, items: { anyOf: [id('user'), shopperObject] }, description: 'user ids or shopper objects' },
          ...listOptions,
        },
      },
      response: { 200: { type: 'object', properties: { results: { type: 'array', items: answerList }, skipped } }, ...errors },
    },
    completeBasket: {
      summary: 'Items to add to a cart',
      description: 'The same as POST /recommend with a basket: the cart items are context and never returned.',
      tags: ['recommend'],
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['basket'],
        properties: { ...shopperFields, basket: { ...shopperFields.basket, minItems: 1 }, ...listOptions },
      },
      response: { 200: answerList, ...errors },
    },
    similar: {
      summary: 'Items bought with an item ("people who bought X also bought")',
      tags: ['items'],
      querystring: { type: 'object', additionalProperties: false, required: ['item'], properties: { item: id('item'), k, explain } },
      response: { 200: answerList, ...errors },
    },
    popular: {
      summary: 'The most popular items (what a shopper with no history gets)',
      tags: ['items'],
      querystring: { type: 'object', additionalProperties: false, properties: { k } },
      response: { 200: answerList, ...errors },
    },
    model: { summary: 'The model being served', tags: ['operations'], response: { 200: { type: 'object', properties: { generation: { type: 'integer' }, model: modelInfo } } } },
    health: { summary: 'Liveness: the HTTP thread answers', tags: ['operations'], response: { 200: { type: 'object', properties: { status: { type: 'string' } } } } },
    ready: {
      summary: 'Readiness: a model is loaded and the server is not shutting down',
      tags: ['operations'],
      response: { 200: { type: 'object', properties: { ready: { type: 'boolean' }, generation: { type: 'integer' }, sha256: { type: 'string' } } }, 503: error },
    },
    metrics: { summary: 'Prometheus metrics (text exposition format)', tags: ['operations'], produces: ['text/plain'] },
    reload: {
      summary: 'Hot swap to a model file',
      description: 'Loads the file fully in every worker, then switches; requests in flight finish on the old model. A file that does not load leaves the old model serving (500 with the error). Only from loopback clients, or with the admin token.',
      tags: ['operations'],
      body: { type: 'object', additionalProperties: false, properties: { path: { type: 'string', minLength: 1, description: 'model file (default: the file the server started with)' } } },
      response: { 200: { type: 'object', properties: { generation: { type: 'integer' }, model: modelInfo } }, 400: error, 403: error, 500: error },
    },
  };
}
