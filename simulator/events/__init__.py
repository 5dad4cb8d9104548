"""The generator: a model of contact-centre activity that yields Genesys Cloud
notifications (logical events) in true order, in their EventBridge envelope.

    from simulator.events import generate, TrafficConfig
    for event in generate(seed=7, traffic=TrafficConfig(duration_s=600)):
        ...
"""
from simulator.events.config import MEDIA_TYPES, START_MS, TrafficConfig
from simulator.events.generator import events_of, generate, producible_topics
from simulator.events.topics import TOPICS, Topic, resolve_topics

__all__ = ["MEDIA_TYPES", "START_MS", "TOPICS", "Topic", "TrafficConfig", "events_of", "generate",
           "producible_topics", "resolve_topics"]
