/** JSON-serialisable values (what an artifact manifest may hold). */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };
