/**
 * hybridrec/server — the HTTP server (Node only). Its packages (fastify, @fastify/swagger,
 * @fastify/cors, prom-client; @fastify/swagger-ui for the /docs page) are optional peers of
 * hybridrec: install them to serve, an app that only embeds the library never loads them.
 */
export { createServer, errorBody, type RecommendationServer } from './app';
export { serve, type ServeOptions } from './serve';
export { ModelPool, OverloadedError, type PoolOptions } from './pool';
export { TaskTooLargeError } from './queue';
export { ServingModel, type ModelInfo, type ServeRecommendOptions, type ShopperInput, type Task } from './model';
export { SERVER_DEFAULTS, resolveServerOptions, type ServerOptions } from './options';
export { schemas, type SchemaLimits } from './schemas';
