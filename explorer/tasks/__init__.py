"""Task models (sentiment, NER, QA): loading the shipped adapters, and pure post-processing."""
