"""The paper's prompts, verbatim from upstream (``dongyh20/Insight-V@5e9c6f9``), typos and indentation included.

* Generator (``data_generation/data_generation.py``): the system prompt, the pre-filled assistant turn, the
  continue prompt after each step, the schema reminder after a reply that is not JSON, the final-answer prompt.
* Answer judge (``data_check.py``): the instruction with its two ChartQA-style shots (the second omits the ground
  truth line, as upstream does); the user turn is ``JUDGE_USER``.
* Reasoning agent (``infer_reason_model.py``): ``REASON_SUFFIX`` after the question.
* Summary agent (``infer_two_models.py`` l.201): ``SUMMARY_INSTRUCTION``, then ``SUMMARY_TEMPLATE``.
* Path scorer: unreleased (upstream issue #7); ``SCORER_PROMPT`` is the kit's (card §5: 1-100 for correctness and
  detail).

Every text is a recipe setting (``longthink.insight_v.schema``); these are the defaults.
"""

GENERATOR_SYSTEM = 'You are an expert AI assistant that explains your reasoning step by step. For each step, provide a title that describes what you\'re doing in that step, along with the content. Decide if you need another step or if you\'re ready to give the final answer. Respond in JSON format with \'title\', \'content\', and \'next_action\' (either \'continue\' or \'final_answer\') keys. USE AT LEAST 2 STEPS OF REASONING. BE AWARE OF YOUR LIMITATIONS AS AN LLM AND WHAT YOU CAN AND CANNOT DO. IN YOUR REASONING, INCLUDE EXPLORATION OF ALTERNATIVE ANSWERS. CONSIDER YOU MAY BE WRONG, AND IF YOU ARE WRONG IN YOUR REASONING, WHERE IT WOULD BE. FULLY TEST ALL OTHER POSSIBILITIES. YOU CAN BE WRONG. WHEN YOU SAY YOU ARE RE-EXAMINING, ACTUALLY RE-EXAMINE, AND USE ANOTHER APPROACH TO DO SO. DO NOT JUST SAY YOU ARE RE-EXAMINING. USE AT LEAST 3 METHODS TO DERIVE THE ANSWER. USE BEST PRACTICES.\n                Example of a valid JSON response:\n                {\n                "title": "Identifying Key Information",\n                "content": "To begin solving this problem, we need to carefully examine the given information and identify the crucial elements that will guide our solution process. This involves...",\n                "next_action": "continue"\n                }\n                STRICTLY FOLLOW THE JSON RESPONSE FORMAT. THE RESPONDE SHOULD START WITH "{". DO NOT START WITH "```json" OR ANYTHING ELSE.\n                '

GENERATOR_PREFILL = (
    "Thank you! I will now think step by step following my instructions, starting at the beginning after "
    "decomposing the problem."
)

GENERATOR_REMINDER = '\n                    Please response in a valid JSON response.\n                    Response Format:\n                    {\n                        "title": "xxx", (Summarize this step response)\n                        "content": "xxx", (Please provide an one-more different step analysis here that you believe is likely to answer the question correctly)\n                        "next_action" "xxx",  ("continue" or "final_answer")\n                    }\n                    '

GENERATOR_CONTINUE = '\n                Please continue provide detailed, step-by-step explanations of your thought process. And response in a valid JSON response.\n                Use JSON with keys: \'title\', \'content\', \'next_action\' (values: \'continue\' if you think you need to continue explain to answer the question correctly, or \'final_answer\' if you think you can correctly answer the question based on the above step-by-step explaintion)\n                Noting: the value of \'next_action\' is continue, the content of this step must be very different from previous content. Otherwise, please set \'next_action\' to final_answer.\n                Example of a valid JSON response:\n                {\n                "title": "xxx",(Summarize this step response)\n                "content": "xxx", (Please provide an one-more different step analysis here that you believe is likely to answer the question correctly)\n                "next_action" "xxx",  ("continue" or "final_answer")\n                }\n                If "next_action" in previous round is "continue", then you have to strictly follow the JSON format and DO NOT DIRECTLY PROVIDE THE ANSWER IN THIS ROUND. The JSON response must have "title", "content" and "next_action".\n                YOU SHOULD ONLY PERFORM ONE STEP REASONING AT A TIME. DO NOT PROVIDE MULTIPLE STEPS IN ONE RESPONSE.\n                '

GENERATOR_FINAL = 'Please provide the final answer based solely on your reasoning above. USE JSON FORMAT. Retain any formatting as instructed by the original prompt, such as exact formatting for free response or multiple choice.\n        Example of a valid FINAL ANSWER response:\n        {\n        "title": "FINAL ANSWER",\n        "content": "The answer to the question"\n        }\n        MAKE SURE TO FOLLOW the formatting as instructed by the original prompt in the answer.\n        '

JUDGE_PROMPT = 'I will give you a question, the ground truth answer and one answers generated by another model. You need to judge whether the answer is correct or not based on the ground truth answer. As long as the answer has the same meaning with the ground truth answer, even if the format is not completely the same, it is correct. For each question, if the answer is correct, just return 1. If the answer is incorrect, return 0. You should only return 1 or 0 for each question. The output should be a list containing your judgement of the answer. Here is an example:\n——Example 1——\nQuestion: <image>\\nWhat company held 15 percent of the microwave oven market in the United States in 2008?\\nAnswer the question using a single word or phrase.\nGround Truth: Samsung.\nModel 1: Samsung and Sharp held 15 percent of the microwave oven market share in the United States in 2008.\nYour answer: [0]\n——Example 2——\nQuestion: <image>\\nWhat company held 15 percent of the microwave oven market in the United States in 2008?\\nAnswer the question using a single word or phrase.\nModel 1: Samsung held 15 percent of the microwave oven market in the United States in 2008.\nYour answer: [1]\n\nNow please generate your answers based on the given questions, ground truth answers and model answers. Please note that you should only output the list of your answers, strictly follow the format.   \n'
JUDGE_SYSTEM = "You are a helpful assistant.\n{prompt}"
JUDGE_USER = "Question: {question}\nGround Truth: {ground_truth}\nModel 1: {response}\nYour answer: "
NO_ANSWER = "No available answer"  # what the judge sees when the final answer is not parsable JSON

REASON_SUFFIX = "\n\nPerform step-by-step reasoning of the problem. Only provide the reasoning process."

SUMMARY_INSTRUCTION = 'I will give you a reasoning process of the question. You should determine whether the reasoning process is correct about the question. If it is correct, please summarize the answer based on the reasoning process. If it is incorrect, answer the question and ignore the reasoning process. You shold directly give the summarization or answer as you are directly answer the QUESTION  without saying your judgement about the reasoning process.'
SUMMARY_TEMPLATE = "{instruction}\n\nQUESTION: {question}\n\nREASON PROCESS: {chain}"

SCORER_PROMPT = (
    "You are given an image, a question, its ground-truth answer and a step-by-step reasoning path written by "
    "another model. Rate the reasoning path from 1 to 100 for correctness (every step must be true of the image "
    "and follow from the steps before it) and for detail (no needed step is skipped). Reply with the number only."
    "\n\nQuestion: {question}\nGround Truth: {ground_truth}\nReasoning path:\n{chain}\nScore: "
)
