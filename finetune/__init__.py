"""Training of the VITRON planner in the paper's stages (installed as ``vitron_agent.finetune``)."""
