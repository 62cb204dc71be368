// Reads an nginx.conf as nginx does, far enough for the tests: directives with their arguments and
// blocks, quotes respected, comments dropped. Used to check what the frontend's nginx would resolve,
// write and listen on, from the exact text the stack mounts.

export interface Directive {
    name: string;
    args: string[];
    /** Present for a block directive (`http { … }`). */
    children?: Directive[];
}

function tokenize(text: string): string[] {
    const tokens: string[] = [];
    let i = 0;
    while (i < text.length) {
        const c = text[i];
        if (/\s/.test(c)) {
            i++;
        } else if (c === "#") {
            while (i < text.length && text[i] !== "\n") i++;
        } else if (c === ";" || c === "{" || c === "}") {
            tokens.push(c);
            i++;
        } else if (c === '"' || c === "'") {
            let j = i + 1;
            let value = "";
            while (j < text.length && text[j] !== c) {
                value += text[j] === "\\" ? text[++j] : text[j];
                j++;
            }
            tokens.push(value);
            i = j + 1;
        } else {
            let j = i;
            while (j < text.length && !/[\s;{}]/.test(text[j])) j++;
            tokens.push(text.slice(i, j));
            i = j;
        }
    }
    return tokens;
}

export function parseNginxConf(text: string): Directive[] {
    const tokens = tokenize(text);
    let pos = 0;
    const parseBlock = (): Directive[] => {
        const out: Directive[] = [];
        while (pos < tokens.length && tokens[pos] !== "}") {
            const name = tokens[pos++];
            const args: string[] = [];
            while (pos < tokens.length && tokens[pos] !== ";" && tokens[pos] !== "{") {
                args.push(tokens[pos++]);
            }
            if (tokens[pos] === "{") {
                pos++;
                out.push({ name, args, children: parseBlock() });
                if (tokens[pos++] !== "}") {
                    throw new Error(`nginx.conf: block ${name} ${args.join(" ")} is not closed`);
                }
            } else if (tokens[pos++] === ";") {
                out.push({ name, args });
            } else {
                throw new Error(`nginx.conf: directive ${name} is not terminated with ';'`);
            }
        }
        return out;
    };
    const top = parseBlock();
    if (pos !== tokens.length) {
        throw new Error("nginx.conf: unbalanced '}'");
    }
    return top;
}

/** Every directive called `name`, at any depth, with the chain of blocks it sits in. */
export function findDirectives(conf: Directive[], name: string, within: Directive[] = []): { directive: Directive; within: Directive[] }[] {
    return conf.flatMap((d) => [
        ...(d.name === name ? [{ directive: d, within }] : []),
        ...(d.children ? findDirectives(d.children, name, [...within, d]) : []),
    ]);
}

/**
 * The host names nginx resolves once, at start: the `server` entries of `upstream` blocks and
 * literal hosts in `proxy_pass` (not upstream names, not variables, which are resolved per request).
 */
export function hostsResolvedAtStart(conf: Directive[]): string[] {
    const upstreams = findDirectives(conf, "upstream").map(({ directive }) => directive);
    const upstreamNames = new Set(upstreams.map((u) => u.args[0]));
    const fromUpstreams = upstreams.flatMap((u) => (u.children ?? []).filter((d) => d.name === "server").map((d) => d.args[0]));
    const fromProxyPass = findDirectives(conf, "proxy_pass").map(({ directive }) => directive.args[0])
        .filter((target) => !target.includes("$"))
        .map((target) => target.replace(/^https?:\/\//, "").replace(/\/.*$/, ""))
        .filter((hostPort) => !upstreamNames.has(hostPort));
    return [...fromUpstreams, ...fromProxyPass].map((hostPort) => hostPort.replace(/:\d+$/, ""));
}
