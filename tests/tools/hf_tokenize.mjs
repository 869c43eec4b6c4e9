// Reference ids from @huggingface/tokenizers (the JS port of HF tokenizers) for the parity test.
// usage: node hf_tokenize.mjs <hf-tokenizers dir> <tokenizer.json> <requests.json> <answers.json>
// requests: {"encode": [{"text": s, "add_special_tokens": b}], "decode": [{"ids": [..], "skip_special_tokens": b}]}
// answers:  {"encode": [[ids]], "decode": [text]}
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const [libDir, tokenizerPath, requestsPath, answersPath] = process.argv.slice(2);
const { Tokenizer } = await import(pathToFileURL(join(libDir, "dist", "tokenizers.mjs")).href);
// An empty config: the answers then depend on tokenizer.json alone, as ours do.
const tokenizer = new Tokenizer(JSON.parse(readFileSync(tokenizerPath, "utf8")), {});
const requests = JSON.parse(readFileSync(requestsPath, "utf8"));
const answers = {
  encode: (requests.encode ?? []).map((r) => tokenizer.encode(r.text, { add_special_tokens: r.add_special_tokens }).ids),
  // The library's decode rejects an empty list; the answer for it is the empty text.
  decode: (requests.decode ?? []).map((r) => r.ids.length === 0 ? "" :
    tokenizer.decode(r.ids, { skip_special_tokens: r.skip_special_tokens, clean_up_tokenization_spaces: false })),
};
writeFileSync(answersPath, JSON.stringify(answers));
