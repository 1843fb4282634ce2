"""Local teacher with Hugging Face transformers, greedy or sampling, in the precision this machine runs
fastest (backend.precision, unless `dtype` is given).

Two ways to batch (`batching`):
- `continuous` (the default for causal models): backend.teacher.refill keeps up to `batch_size`
  sequences running and gives a finished sequence's slot to the next waiting one at once; a prompt is
  prefilled once for its n samples, and a prompt prefix shared by the call (the few-shot block) once
  for all prompts (`share_prefix`); a text whose tail repeats one block three times ends there
  (`stop_loops`, backend.teacher.loops).
- `static` (seq2seq students always; kept selectable for comparison): prompts sorted by length, in
  micro-batches of `batch_size` through `generate`, each batch running until its longest sample ends.
  Log-probabilities are summed on the fly by a logits processor instead of `output_scores`, which would
  hold (batch, steps, vocab) floats: over 1 GB for 32 sequences of 256 tokens with a 49k vocabulary.
"""

import json
from pathlib import Path
from typing import Any

import torch
from transformers import (
    AutoConfig,
    AutoModelForCausalLM,
    AutoModelForSeq2SeqLM,
    AutoTokenizer,
    LogitsProcessor,
    LogitsProcessorList,
    PreTrainedTokenizerBase,
    StoppingCriteriaList,
    StopStringCriteria,
    set_seed,
)

from backend.precision import DTYPES, choose_dtype, torch_dtype
from backend.teacher import progress
from backend.teacher.attention import use_grouped_attention
from backend.teacher.base import Completion, GenerationParams, cut_at_stop
from backend.teacher.loops import LoopRule, number_token_ids
from backend.teacher.refill import (
    MIN_SHARED_PREFIX,
    RefillLoop,
    Request,
    Revise,
    SharedPrefix,
    common_prefix_length,
    full_attention,
    make_prefix,
)
from backend.teacher.sampling import EndRule, sample_seed

BATCHING = ("continuous", "static")


class LogprobRecorder(LogitsProcessor):
    """Log-probability of each generated token under the model (before temperature and top-p).

    Called once per decoding step with that step's logits; the token chosen at step t is only known at
    step t+1 (as input_ids[:, -1]), so it keeps one (B, V) log-softmax and gathers one step behind.
    """

    def __init__(self) -> None:
        self.previous: torch.Tensor | None = None  # (B, V) log-softmax of the last step
        self.token_logprobs: list[torch.Tensor] = []  # each (B,)

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        if self.previous is not None:
            self.token_logprobs.append(self.previous.gather(1, input_ids[:, -1:]).squeeze(1))
        self.previous = torch.log_softmax(scores.float(), dim=-1)
        return scores

    def finish(self, last_tokens: torch.Tensor) -> torch.Tensor:
        """(B, T_gen) log-probabilities after generation; `last_tokens` (B,) are the final step's tokens."""
        assert self.previous is not None, "no generation step was recorded"
        steps = [*self.token_logprobs, self.previous.gather(1, last_tokens[:, None]).squeeze(1)]
        return torch.stack(steps, dim=1)


def pick_device(device: str | None, dtype: str | None) -> tuple[str, str]:
    """cuda when available, else CPU; the precision asked for, else the one this device runs fastest."""
    chosen = device or ("cuda" if torch.cuda.is_available() else "cpu")
    if dtype in (None, "auto"):
        return chosen, choose_dtype(chosen)
    if dtype not in DTYPES:
        raise ValueError(f"dtype must be auto or one of {', '.join(DTYPES)}, got {dtype!r}")
    return chosen, dtype


def is_encoder_decoder(source: str) -> bool:
    """T5-style models; an unmerged LoRA student says so in its adapter config (it has no config.json)."""
    adapter = Path(source) / "adapter_config.json"
    if adapter.exists():
        return bool(json.loads(adapter.read_text(encoding="utf-8")).get("task_type") == "SEQ_2_SEQ_LM")
    return bool(AutoConfig.from_pretrained(source).is_encoder_decoder)


class TransformersBackend:
    name = "transformers"

    def __init__(
        self,
        model: str,
        *,
        batch_size: int = 16,
        chat: bool = False,
        device: str | None = None,
        dtype: str | None = None,
        batching: str = "continuous",
        share_prefix: bool = True,
        stop_loops: bool = True,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        if batching not in BATCHING:
            raise ValueError(f"batching must be one of {', '.join(BATCHING)}, got {batching!r}")
        self.model = model
        self.batch_size = batch_size
        self.device, self.dtype = pick_device(device, dtype)
        source = str(Path(model).expanduser()) if Path(model).expanduser().exists() else model
        self.tokenizer: PreTrainedTokenizerBase = AutoTokenizer.from_pretrained(source)
        # Left padding: every prompt's last token sits at the same position, where generation starts.
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        # Encoder-decoder students (T5) generate only the answer; causal models continue the prompt.
        self.seq2seq = is_encoder_decoder(source)
        auto_class = AutoModelForSeq2SeqLM if self.seq2seq else AutoModelForCausalLM
        loaded: Any = auto_class.from_pretrained(source, dtype=torch_dtype(self.dtype))
        self.lm: Any = loaded.to(self.device).eval()
        self.chat = chat and bool(self.tokenizer.chat_template)
        self.end_ids = self._end_token_ids()
        # Building a StopStringCriteria scans the whole vocabulary (about 3 s for SmolLM2's 49k tokens):
        # once per stop list, not once per generate call.
        self._stop_criteria: dict[tuple[str, ...], StoppingCriteriaList] = {}
        # Encoder-decoder students keep `generate`: the refill loop drives a decoder-only cache.
        # So do models with sliding-window or linear-attention layers.
        self.batching = batching if not self.seq2seq and full_attention(self.lm) else "static"
        if self.batching == "continuous":
            use_grouped_attention(self.lm)  # 2-3x faster decoding on CPU than sdpa (attention.py)
        self.share_prefix = share_prefix
        self.loop_rule = LoopRule(number_token_ids(self.tokenizer)) if stop_loops else None
        self._prefix: SharedPrefix | None = None  # kept across calls: runs send the same few-shot block

    def _stopping(self, stop: list[str]) -> StoppingCriteriaList | None:
        if not stop:
            return None
        key = tuple(stop)
        if key not in self._stop_criteria:
            self._stop_criteria[key] = StoppingCriteriaList([StopStringCriteria(self.tokenizer, stop)])
        return self._stop_criteria[key]

    def _end_token_ids(self) -> set[int]:
        ids = self.lm.generation_config.eos_token_id
        ids = set(ids if isinstance(ids, list) else [ids] if ids is not None else [])
        if self.tokenizer.eos_token_id is not None:
            ids.add(self.tokenizer.eos_token_id)
        return ids

    def format_prompt(self, prompt: str) -> str:
        """With `chat`, the prompt is sent as one user message through the tokenizer's chat template."""
        if not self.chat:
            return prompt
        messages = [{"role": "user", "content": prompt}]
        text = self.tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
        return str(text)

    def generate(self, prompts: list[str], params: GenerationParams) -> list[list[Completion]]:
        if not prompts:
            return []
        if self.batching == "continuous":
            return self._generate_continuous(prompts, params)
        return self._generate_static(prompts, params)

    @property
    def revises(self) -> bool:
        """Whether `generate_revising` can run (the refill loop drives this model)."""
        return self.batching == "continuous"

    def generate_revising(
        self, prompts: list[str], params: GenerationParams, revise: Revise
    ) -> list[Completion]:
        """One completion per prompt (params.n must be 1); when a text would end, `revise` may give the
        text it goes on from, without leaving the batch (backend.teacher.refill). The completions' texts
        are the last revision's; `revise` has seen every part."""
        if params.n != 1 or not self.revises:
            raise ValueError("revising generation takes one sample per prompt, with continuous batching")
        if not prompts:
            return []
        return [samples[0] for samples in self._generate_continuous(prompts, params, revise)]

    @torch.inference_mode()
    def _generate_continuous(
        self, prompts: list[str], params: GenerationParams, revise: Revise | None = None
    ) -> list[list[Completion]]:
        ids = [self._encode(prompt) for prompt in prompts]
        per_prompt = 1 if params.greedy else params.n  # greedy: one text, repeated n times
        requests = [
            Request(index, sample, ids[index], params.max_tokens, self._generator(params, index, sample))
            for index in range(len(prompts))
            for sample in range(per_prompt)
        ]
        stop = [marker for marker in params.stop if marker]
        loop = RefillLoop(
            self.lm,
            params,
            EndRule(self.end_ids, self.tokenizer.pad_token_id, stop, self.loop_rule),
            self._decode,
            encode=lambda text: list(self.tokenizer(text, add_special_tokens=False)["input_ids"]),
            slots=self.batch_size,
            prefix=self._shared_prefix(ids),
            report=progress.report,
        )
        results: list[list[Completion]] = [[] for _ in prompts]
        for done in loop.run(requests, revise):
            text = cut_at_stop(self._decode(done.tokens), stop)
            tokens_in = len(done.request.ids)
            completion = Completion(text, tokens_in, len(done.tokens), done.logprob, looped=done.looped)
            results[done.request.prompt].append(completion)
        return [samples * params.n if params.greedy else samples for samples in results]

    def _encode(self, prompt: str) -> list[int]:
        ids = list(self.tokenizer(self.format_prompt(prompt), add_special_tokens=not self.chat)["input_ids"])
        if not ids:
            raise ValueError("an empty prompt cannot be continued")
        return ids

    def _decode(self, tokens: list[int]) -> str:
        return str(self.tokenizer.decode(tokens, skip_special_tokens=True))

    def _generator(self, params: GenerationParams, prompt: int, sample: int) -> torch.Generator | None:
        if params.greedy:
            return None
        return torch.Generator(device=self.device).manual_seed(sample_seed(params.seed, prompt, sample))

    def _shared_prefix(self, ids: list[list[int]]) -> SharedPrefix | None:
        """The cached prefix if every prompt still starts with it, else this call's common prefix."""
        if not self.share_prefix:
            return None
        cached = self._prefix
        if cached is not None and all(
            len(p) > len(cached.ids) and tuple(p[: len(cached.ids)]) == cached.ids for p in ids
        ):
            return cached
        length = common_prefix_length(ids)
        if length < MIN_SHARED_PREFIX:
            return None
        self._prefix = make_prefix(self.lm, ids[0][:length])
        return self._prefix

    def _generate_static(self, prompts: list[str], params: GenerationParams) -> list[list[Completion]]:
        order = sorted(range(len(prompts)), key=lambda i: len(prompts[i]))
        results: list[list[Completion]] = [[] for _ in prompts]
        state = progress.GenerationProgress(sequences=len(prompts) * (1 if params.greedy else params.n))
        for start in range(0, len(order), self.batch_size):
            chunk = order[start : start + self.batch_size]
            completions = self._generate_batch([prompts[i] for i in chunk], params)
            for index, samples in zip(chunk, completions, strict=True):
                results[index] = samples
                state.prompts_done.append(index)
            state.finished += len(chunk) * (1 if params.greedy else params.n)
            state.tokens_out += sum(
                c.tokens_out for samples in completions for c in samples[: 1 if params.greedy else None]
            )
            progress.report(state)
        return results

    def _sampling_kwargs(self, params: GenerationParams) -> dict[str, Any]:
        if params.greedy:
            # Greedy gives the same text every time: generate once, repeat it n times afterwards.
            return {"do_sample": False, "num_return_sequences": 1, "temperature": None, "top_p": None}
        return {
            "do_sample": True,
            "num_return_sequences": params.n,
            "temperature": params.temperature,
            "top_p": params.top_p,
            "top_k": 0,  # transformers defaults to 50; vLLM and OpenAI servers do not cut to top-k
        }

    @torch.inference_mode()
    def _generate_batch(self, prompts: list[str], params: GenerationParams) -> list[list[Completion]]:
        texts = [self.format_prompt(prompt) for prompt in prompts]
        encoded = self.tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=not self.chat)
        encoded = encoded.to(self.device)
        set_seed(params.seed)
        recorder = LogprobRecorder()
        stop = [marker for marker in params.stop if marker]
        output = self.lm.generate(
            **encoded,
            max_new_tokens=params.max_tokens,
            logits_processor=LogitsProcessorList([recorder]),
            pad_token_id=self.tokenizer.pad_token_id,
            stopping_criteria=self._stopping(stop),
            **self._sampling_kwargs(params),
        )
        # (B*k, T_gen): a causal output repeats the prompt; a seq2seq one starts with the decoder start token.
        generated = output[:, 1:] if self.seq2seq else output[:, encoded["input_ids"].shape[1] :]
        token_logprobs = recorder.finish(generated[:, -1])  # (B*k, T_gen)
        per_prompt = 1 if params.greedy else params.n
        prompt_tokens = encoded["attention_mask"].sum(dim=1).tolist()
        results = []
        for row_index in range(len(prompts)):
            rows = range(row_index * per_prompt, (row_index + 1) * per_prompt)
            tokens_in = prompt_tokens[row_index]
            samples = [self._completion(generated[r], token_logprobs[r], tokens_in, stop) for r in rows]
            results.append(samples * params.n if params.greedy else samples)
        return results

    def _completion(
        self, tokens: torch.Tensor, logprobs: torch.Tensor, tokens_in: int, stop: list[str]
    ) -> Completion:
        """Tokens up to the first end token (generated, so counted) or padding (after a stop string)."""
        length = len(tokens)
        for position, token in enumerate(tokens.tolist()):
            if token in self.end_ids or token == self.tokenizer.pad_token_id:
                length = position + 1 if token in self.end_ids else position
                break
        text = str(self.tokenizer.decode(tokens[:length], skip_special_tokens=True))
        return Completion(
            text=cut_at_stop(text, stop),
            tokens_in=int(tokens_in),
            tokens_out=length,
            logprob=float(logprobs[:length].sum()),
        )

    def close(self) -> None:
        """Drop the model (safe to call twice); the backend cannot generate afterwards."""
        self.lm = None
        self._prefix = None
        if self.device.startswith("cuda"):
            torch.cuda.empty_cache()
