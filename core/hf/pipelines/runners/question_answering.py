"""question-answering: find the answer to a question in a context (see core.hf.pipelines.qa)."""
from __future__ import annotations

from core.hf.pipelines import qa
from core.hf.pipelines.runner import Prepared, TaskRunner, register
from core.hf.pipelines.spec import TaskField, TaskSpec
from core.hf.pipelines.text_limits import model_limit


@register
class QuestionAnswering(TaskRunner):
    order = 110
    spec = TaskSpec(
        "question-answering", "Find the answer to a question in a context.", "text", "Question",
        "question-answering", False, "distilbert/distilbert-base-cased-distilled-squad",
        (TaskField("context", "Context", "longtext", None, "The text that holds the answer.", True),
         TaskField("max_answer_len", "Max answer tokens", "int", 15, "Longest answer, in tokens."),
         TaskField("top_k", "Top k", "int", 1, "How many answers to show, best first."),
         TaskField("handle_impossible_answer", "No answer", "bool", False,
                   "Allow the empty answer (models trained on SQuAD 2 know when the context has none).")),
        ("doc_stride", "max_seq_len", "max_question_len", "align_to_words"),
    )

    @classmethod
    def split_inputs(cls, inputs, params):
        if isinstance(inputs, dict):
            params = {**params}
            params.setdefault("context", inputs.get("context"))
            return inputs.get("question"), params
        return inputs, params

    def load(self):
        self.bundle = qa.load_qa(self.ref, self.trust_remote_code)
        self.load_notices = self.bundle.notices
        return self

    def preprocess(self, text, params):
        options = qa.Options.from_params(params)
        tokenizer = self.bundle.tokenizer
        windows = qa.tokenize(tokenizer, text, params.get("context") or "", options,
                              model_limit(tokenizer, self.bundle.config))
        notices = ()
        if windows.count > 1:
            notices = (f"long context read in {windows.count} overlapping windows of "
                       f"{len(windows.encoded['input_ids'][0])} tokens",)
        return Prepared((windows, options), notices)

    def forward(self, inputs, params, cancel):
        windows, options = inputs
        names = qa.model_inputs(self.bundle.tokenizer, self.bundle.model)
        return windows, options, qa.forward(self.bundle.model, windows, names)

    def postprocess(self, raw, params):
        windows, options, logits = raw
        return qa.best_answers(windows, logits, options)

    @classmethod
    def format(cls, result):
        items = result if isinstance(result, list) else [result]
        return "\n".join(f"{r['answer'] or '(no answer)'} (score {r['score']:.4f})" for r in items)
