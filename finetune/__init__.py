"""Training of the VITRON planner in the paper's stages (installed as ``vitron_agent.finetune``).

One module per stage, each runnable as ``python -m vitron_agent.finetune.STAGE --config FILE`` or
``vitron-agent train STAGE --config FILE``: ``align`` (1), ``invoke`` (2), ``decoder_align`` (3),
``grounding`` (4), ``synergy`` (5). They share the trainer (``trainer``), the resumable checkpoints
(``checkpoint``), the batching (``batching``) and the data builders (``data``). Importing this
package loads no model library.
"""

from __future__ import annotations

from vitron_agent.lazy import lazy_exports

_EXPORTS = {
    "STAGES": "vitron_agent.finetune.cli",
    "run_train": "vitron_agent.finetune.cli",
    "TrainConfig": "vitron_agent.finetune.config",
    "load_config": "vitron_agent.finetune.config",
    "Trainer": "vitron_agent.finetune.trainer",
    "TrainResult": "vitron_agent.finetune.trainer",
    "read_log": "vitron_agent.finetune.trainer",
    "AlignConfig": "vitron_agent.finetune.align",
    "InvokeConfig": "vitron_agent.finetune.invoke",
    "DecoderAlignConfig": "vitron_agent.finetune.decoder_align",
    "GroundingConfig": "vitron_agent.finetune.grounding",
    "SynergyConfig": "vitron_agent.finetune.synergy",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, globals(), _EXPORTS, __all__)
