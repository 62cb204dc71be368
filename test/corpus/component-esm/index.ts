// A component-based program written as an ES module, as `pulumi new` offers it today: package.json
// says "type": "module", local imports name the .js the compiler will emit, the release is read
// with top-level await relative to import.meta.url. Written for the offline runner's test corpus.
import { readFile } from "node:fs/promises";
import { WebService } from "./webService.js";

const release = (await readFile(new URL("./VERSION", import.meta.url), "utf8")).trim();

const api = new WebService("api", { image: `ghcr.io/example/api:${release}`, replicas: 3 });
const web = new WebService("web", { image: `ghcr.io/example/web:${release}` });

export const services = [api.serviceName, web.serviceName];
export const version = release;
