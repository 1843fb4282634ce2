"""Student training: frozen curated set -> prompt/completion examples -> fine-tuned checkpoint (TRL)."""
