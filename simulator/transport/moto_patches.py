"""Fixes to moto's SQS and EventBridge models, applied inside our embedded moto server
(``python -m simulator.transport.moto_server``), never in the harness process.

Written against moto 5.2.5 (``moto/sqs/models.py``, ``moto/events/utils.py``);
accepted for moto 5.2.x. ``apply()`` first checks the version and that every
method it replaces still has the signature it was written for, and raises
``MotoPatchError`` otherwise: a moto upgrade fails loudly instead of silently
running unpatched. Every fix keeps moto's observable behaviour except where noted.

1. Cost grows with queue depth (a backlog makes a run quadratic):
   - ``Queue.attributes`` builds every attribute, including the three
     ``ApproximateNumberOfMessages*`` counts, each a scan of all messages.
     ``send_message``, ``_validate_message`` and ``add_message`` read it for
     ``ContentBasedDeduplication`` only, and ``receive_message`` reads it (through
     ``is_message_valid_based_on_retention_period``) three times per message it
     returns. It becomes a lazy mapping: a value is computed when it is read, so the
     counts are scanned only when GetQueueAttributes asks for them. (Counters kept
     incrementally would not do: "not visible" changes by itself when a visibility
     timeout lapses, so a counter needs a timer; nothing on a hot path reads them.)
   - ``Queue.messages`` lists every visible message on each ReceiveMessage, which
     then takes at most ten: it becomes a lazy view.
   - ``Queue.delete_message`` scans all messages twice and rebuilds the list;
     ``SQSBackend.change_message_visibility`` scans them: messages are kept in an
     insertion-ordered dict and found through a receipt-handle index.
   - FIFO ``add_message`` scans all messages for the deduplication id: a map.
2. Races: the server is threaded and several consumer processes poll one queue, but
   nothing in the SQS model is locked. Two concurrent ReceiveMessage calls iterate
   the same snapshot and both hand out the same message; ``delete_message`` rebuilds
   ``_messages`` from a snapshot and assigns it back, losing a message appended (or
   resurrecting one deleted) meanwhile; iterating ``pending_messages`` while another
   thread adds to it raises. Every backend call that touches a queue's messages now
   holds that queue's own ``_messages_lock`` (a Condition over an RLock). A long
   poll must release it while it waits: moto's ``wait_for_messages`` returns at once
   when a visible message exists, even one it may not hand out (its FIFO group is
   in flight), so a long poll would spin holding the lock and the delete that frees
   the group could not run. It now waits for a change (a send, delete or visibility
   change notifies) or its timeout.
3. FIFO deduplication forgets an id once the message is deleted; real SQS keeps it
   for the 5-minute interval. A per-queue map dedup-id -> expiry keeps it.
4. Memory: moto tracks every ``Message`` ever built, and every per-receive copy, in
   ``Message.instances_tracked`` (for its data.json dashboard), and every ``Queue``
   (with its messages and the receipt handles of all it deleted) after it is
   deleted, so a server that lives for many runs keeps every body ever sent.
   Messages and queues are no longer tracked.
5. EventBridge envelope: with no InputTransformer moto renders targets through a
   text template that drops ``account`` and replaces ``<id>``, ``<time>``... inside
   ``detail`` too. The target now receives the event as EventBridge sends it.
6. Per-request overhead: every request lists moto's package folder (a listdir and
   an isdir per service, ``backends.list_of_moto_modules``) to route it, and every
   action lists the response class's methods (``inspect.getmembers``). Both answers
   never change while the server runs: each is computed once. Together they were
   a fifth of the server's time under a consumer's load (measured with py-spy).
7. DynamoDB conditional writes are not atomic: ``put_item``, ``update_item``,
   ``delete_item`` and ``transact_write_items`` evaluate their condition and then
   write, with nothing held between, so two threads of the server both pass
   ``attribute_not_exists(id)`` and both write. Real DynamoDB decides a condition
   and its write as one step (Powertools' idempotency rests on it: two consumer
   instances racing on one event's record; a false duplicate otherwise). The
   backend's writes now hold one lock.
"""
from __future__ import annotations

import inspect
import json
import threading
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from typing import Any, Callable

import functools

import moto
from moto import backends as moto_backends
from moto.core import responses as moto_responses
from moto.core.utils import camelcase_to_underscores, unix_time_millis
from moto.dynamodb import models as dynamodb_models
from moto.events import utils as events_utils
from moto.sqs import models as sqs_models
from moto.sqs.exceptions import InvalidParameterValue, ReceiptHandleIsInvalid

SUPPORTED = ((5, 2),)  # major.minor of moto these patches were checked against (5.2.5)

Queue = sqs_models.Queue
Message = sqs_models.Message
SQSBackend = sqs_models.SQSBackend
DynamoDBBackend = dynamodb_models.DynamoDBBackend

# (class, method) -> parameters of the moto code each patch was written against
_EXPECTED: dict[tuple[type, str], tuple[str, ...]] = {
    (Queue, "__init__"): ("self", "name", "region", "account_id", "kwargs"),
    (Queue, "add_message"): ("self", "message"),
    (Queue, "delete_message"): ("self", "receipt_handle"),
    (Queue, "wait_for_messages"): ("self", "timeout"),
    (SQSBackend, "send_message"): ("self", "queue_name", "message_body", "message_attributes",
                                   "delay_seconds", "deduplication_id", "group_id",
                                   "system_attributes", "validate_group_id"),
    (SQSBackend, "send_message_batch"): ("self", "queue_name", "entries"),
    (SQSBackend, "receive_message"): ("self", "queue_name", "count", "wait_seconds_timeout",
                                      "visibility_timeout", "message_attribute_names"),
    (SQSBackend, "delete_message"): ("self", "queue_name", "receipt_handle"),
    (SQSBackend, "delete_message_batch"): ("self", "queue_name", "receipts"),
    (SQSBackend, "change_message_visibility"): ("self", "queue_name", "receipt_handle",
                                                "visibility_timeout"),
    (SQSBackend, "change_message_visibility_batch"): ("self", "queue_name", "entries"),
    (SQSBackend, "purge_queue"): ("self", "queue_name"),
    (SQSBackend, "get_queue_attributes"): ("self", "queue_name", "attribute_names"),
    (events_utils.EventTemplateParser, "parse"): ("input_template", "input_paths_map", "event"),
    (DynamoDBBackend, "put_item"): ("self", "table_name", "item_attrs", "expected", "condition_expression",
                                    "expression_attribute_names", "expression_attribute_values",
                                    "overwrite", "return_values_on_condition_check_failure"),
    (DynamoDBBackend, "update_item"): ("self", "table_name", "key", "update_expression",
                                       "expression_attribute_names", "expression_attribute_values",
                                       "attribute_updates", "expected", "condition_expression",
                                       "return_values_on_condition_check_failure"),
    (DynamoDBBackend, "delete_item"): ("self", "table_name", "key", "expression_attribute_names",
                                       "expression_attribute_values", "condition_expression",
                                       "return_values_on_condition_check_failure"),
    (DynamoDBBackend, "transact_write_items"): ("self", "transact_items"),
    (moto_backends, "list_of_moto_modules"): (),  # type: ignore[dict-item]
    (moto_responses, "method_names_from_class"): ("clazz",),  # type: ignore[dict-item]
}
_EXPECTED_PROPERTIES = ("attributes", "messages", "pending_message_groups")

# The SQSBackend methods that read or change a queue's messages (fix 2).
_LOCKED = ("send_message", "send_message_batch", "delete_message", "delete_message_batch",
           "change_message_visibility_batch", "purge_queue", "get_queue_attributes")

# The DynamoDBBackend writes that evaluate a condition before they write (fix 7).
_DYNAMODB_WRITES = ("put_item", "update_item", "delete_item", "transact_write_items")
_dynamodb_writes = threading.RLock()  # reentrant: a transaction's writes go through put_item

_originals: dict[tuple[type, str], Any] = {}
_applied = False
_apply_lock = threading.Lock()


class MotoPatchError(RuntimeError):
    """The installed moto is not the one these patches were written for."""


def check_compatible() -> None:
    """Raise MotoPatchError unless every patched method has the expected shape."""
    version = tuple(int(p) for p in moto.__version__.split(".")[:2])
    if version not in SUPPORTED:
        raise MotoPatchError(f"simulator.transport.moto_patches targets moto "
                             f"{' / '.join('%d.%d' % v for v in SUPPORTED)}, found "
                             f"{moto.__version__}: re-check the patches against its source")
    for (owner, name), params in _EXPECTED.items():
        func = _originals.get((owner, name), owner.__dict__.get(name))
        func = getattr(func, "__func__", func)  # staticmethod
        found = tuple(inspect.signature(func).parameters) if callable(func) else ()
        if found != params:
            raise MotoPatchError(f"moto {moto.__version__}: {owner.__name__}.{name}{found} "
                                 f"no longer matches {params}")
    for name in _EXPECTED_PROPERTIES:
        if not isinstance(getattr(Queue, name, None), property):
            raise MotoPatchError(f"moto {moto.__version__}: Queue.{name} is not a property")
    for name in ("_messages_lock", "_pending_messages", "deleted_messages", "fifo_queue"):
        if name not in inspect.getsource(Queue.__init__):
            raise MotoPatchError(f"moto {moto.__version__}: Queue.__init__ no longer sets {name}")


# ---- fix 1: data structures -------------------------------------------------


class MessageStore:
    """A queue's messages in arrival order, keyed by message id: O(1) append and
    remove, and iteration that costs the live messages it walks. (An OrderedDict:
    a plain dict's iteration also steps over the slots of every message deleted
    since its last resize, which a drain makes quadratic; a snapshot list costs
    the whole queue per ReceiveMessage.) Iterate under the queue's lock, without
    changing the store meanwhile, as moto's code does."""

    __slots__ = ("_by_id",)

    def __init__(self, messages: Any = ()) -> None:
        self._by_id: OrderedDict[str, Any] = OrderedDict((m.id, m) for m in messages)

    def append(self, message: Any) -> None:
        self._by_id[message.id] = message

    def remove(self, message: Any) -> None:
        if self._by_id.get(message.id) is not message:
            raise ValueError("message not in queue")  # list.remove's contract
        del self._by_id[message.id]

    def get(self, message_id: str) -> Any:
        return self._by_id.get(message_id)

    def __contains__(self, message: object) -> bool:
        return self._by_id.get(getattr(message, "id", None)) is message

    def __iter__(self) -> Iterator[Any]:
        return iter(self._by_id.values())

    def __len__(self) -> int:
        return len(self._by_id)


class VisibleMessages:
    """``Queue.messages`` without building the list: ReceiveMessage stops after ten."""

    __slots__ = ("_store",)

    def __init__(self, store: MessageStore) -> None:
        self._store = store

    def __iter__(self) -> Iterator[Any]:
        return (m for m in self._store if m.visible and not m.delayed)

    def __bool__(self) -> bool:
        return next(iter(self), None) is not None

    def __len__(self) -> int:
        return sum(1 for _ in self)


COUNTS = ("ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
          "ApproximateNumberOfMessagesDelayed")


class QueueAttributes(Mapping):
    """``Queue.attributes`` computed per key on read (same keys and values as moto's).
    The three counts come from one pass over the messages at one instant (moto makes
    three, reading the clock twice per message): the harness polls them while a
    queue drains."""

    __slots__ = ("_queue", "_names", "_counts")

    def __init__(self, queue: Any) -> None:
        self._queue = queue
        names = list(Queue.BASE_ATTRIBUTES)
        if queue.fifo_queue:
            names += Queue.FIFO_ATTRIBUTES
        if queue.kms_master_key_id:
            names += Queue.KMS_ATTRIBUTES
        self._names = names
        self._counts: dict[str, int] | None = None

    def _count(self, name: str) -> int:
        if self._counts is None:
            # Message.visible / .delayed, read against a single clock reading
            now = unix_time_millis()
            visible = not_visible = delayed = 0
            for message in self._queue._messages:
                is_delayed = now < message.delayed_until
                if now > message.visible_at:
                    visible += not is_delayed
                else:
                    not_visible += 1
                delayed += is_delayed
            self._counts = dict(zip(COUNTS, (visible, not_visible, delayed)))
        return self._counts[name]

    def __getitem__(self, name: str) -> Any:
        if name not in self._names:
            raise KeyError(name)
        if name in COUNTS:
            return self._count(name)
        value = getattr(self._queue, camelcase_to_underscores(name))
        if name == "RedrivePolicy" and value:
            value = json.dumps(value)
        if isinstance(value, bool):
            value = str(value).lower()
        return value

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)


def handle_index(queue: Any) -> dict[str, Any]:
    """receipt handle (current and earlier ones) -> live message of ``queue``."""
    return queue.__dict__.setdefault("_sim_handles", {})


def dedup_ids(queue: Any) -> "OrderedDict[tuple[str | None, str], float]":
    """(group or None, deduplication id) -> expiry in epoch ms, oldest first."""
    return queue.__dict__.setdefault("_sim_dedup", OrderedDict())


def _get_messages(self: Any) -> MessageStore:
    return self.__dict__["_sim_store"]


def _set_messages(self: Any, messages: Any) -> None:
    # Queue.__init__ assigns [] and purge_queue assigns [] again.
    store = messages if isinstance(messages, MessageStore) else MessageStore(messages)
    self.__dict__["_sim_store"] = store
    index = handle_index(self)
    for handle in [h for h, m in index.items() if m not in store]:
        del index[handle]


def _messages_view(self: Any) -> VisibleMessages:
    return VisibleMessages(self._messages)


def _attributes(self: Any) -> QueueAttributes:
    return QueueAttributes(self)


# ---- fix 1 + 3: FIFO deduplication -------------------------------------------


def _admit(queue: Any, message: Any) -> bool:
    """False when ``message`` repeats a deduplication id sent within the interval,
    deleted or not, as SQS does."""
    now = message.sent_timestamp or unix_time_millis()
    seen = dedup_ids(queue)
    while seen:
        oldest, expires = next(iter(seen.items()))
        if expires > now:
            break
        del seen[oldest]
    scope = message.group_id if getattr(queue, "deduplication_scope", "queue") == "messageGroup" else None
    key = (scope, message.deduplication_id)
    expires = seen.get(key)
    if expires is not None and expires > now:
        return False
    seen.pop(key, None)
    seen[key] = now + sqs_models.DEDUPLICATION_TIME_IN_SECONDS * 1000
    return True


def _add_message(self: Any, message: Any) -> None:
    if self.lambda_event_source_mappings:
        # moto's own path (it invokes the mapped functions); not used by the harness
        return _originals[(Queue, "add_message")](self, message)
    with self._messages_lock:
        if self.fifo_queue and message.deduplication_id is not None and not _admit(self, message):
            return None
        self._messages.append(message)
        self._messages_lock.notify_all()
    return None


# ---- fix 1: delete and change visibility through the index ---------------------


def _live_message(queue: Any, receipt_handle: str) -> Any:
    message = handle_index(queue).get(receipt_handle)
    if message is None or message not in queue._messages:
        raise ReceiptHandleIsInvalid()
    return message


def _queue_delete_message(self: Any, receipt_handle: str) -> None:
    with self._messages_lock:
        if receipt_handle in self.deleted_messages:
            return  # moto (and SQS) accept deleting twice
        message = _live_message(self, receipt_handle)
        self._messages.remove(message)
        self.pending_messages.discard(message)
        handles = message.all_receipt_handles
        self.deleted_messages.update(handles)
        index = handle_index(self)
        for handle in handles:
            index.pop(handle, None)
        self._messages_lock.notify_all()  # a FIFO group may be free for a long poll


def _change_message_visibility(self: Any, queue_name: str, receipt_handle: str,
                               visibility_timeout: int) -> None:
    queue = self.get_queue(queue_name)
    with queue._messages_lock:
        message = _live_message(queue, receipt_handle)
        # same checks and effects as moto's SQSBackend.change_message_visibility
        given = unix_time_millis() + int(visibility_timeout) * 1000
        if given - message.sent_timestamp > 43200 * 1000:
            raise InvalidParameterValue(
                f"Value {visibility_timeout} for parameter VisibilityTimeout is invalid. "
                "Reason: Total VisibilityTimeout for the message is beyond the limit [43200 seconds]")
        message.change_visibility(visibility_timeout)
        if message.visible and message in queue.pending_messages:
            queue.pending_messages.remove(message)
        queue._messages_lock.notify_all()


# ---- fix 2: per-queue lock -------------------------------------------------------


def _wait_for_messages(self: Any, timeout: int) -> None:
    # Called by receive_message with the lock held and nothing handed out yet:
    # release it until something changes on the queue, or ``timeout`` seconds.
    with self._messages_lock:
        self._messages_lock.wait(timeout=timeout)


def _queue_named(backend: Any, args: tuple, kwargs: dict) -> Any:
    name = args[0] if args else kwargs.get("queue_name")
    return backend.queues.get(name)


def _locked(method: Callable[..., Any]) -> Callable[..., Any]:
    def locked(self: Any, *args: Any, **kwargs: Any) -> Any:
        queue = _queue_named(self, args, kwargs)
        if queue is None:
            return method(self, *args, **kwargs)  # moto raises QueueDoesNotExist
        with queue._messages_lock:
            return method(self, *args, **kwargs)

    locked.__wrapped__ = method  # type: ignore[attr-defined]
    locked.__name__ = method.__name__
    return locked


def _atomic(method: Callable[..., Any]) -> Callable[..., Any]:
    """Fix 7: a DynamoDB write, its condition and the write as one step."""
    @functools.wraps(method)
    def atomic(self: Any, *args: Any, **kwargs: Any) -> Any:
        with _dynamodb_writes:
            return method(self, *args, **kwargs)
    return atomic


def _receive_message(self: Any, *args: Any, **kwargs: Any) -> list:
    queue = _queue_named(self, args, kwargs)
    original = _originals[(SQSBackend, "receive_message")]
    if queue is None:
        return original(self, *args, **kwargs)
    with queue._messages_lock:
        received = original(self, *args, **kwargs)
        # moto hands out copies; index the handles of the messages they copy
        index = handle_index(queue)
        for copy in received:
            message = queue._messages.get(copy.id)
            if message is not None:
                index[copy.receipt_handle] = message
        return received


# ---- fix 4 -----------------------------------------------------------------------


def _untracked_new(cls: type, *args: Any, **kwargs: Any) -> Any:
    return object.__new__(cls)


# ---- fix 5 -----------------------------------------------------------------------

ENVELOPE_FIELDS = ("version", "id", "detail-type", "source", "account", "time", "region",
                   "resources", "detail")


def _parse_template(input_template: Any, input_paths_map: Any, event: dict) -> dict:
    if input_template or input_paths_map:
        return _originals[(events_utils.EventTemplateParser, "parse")](
            input_template, input_paths_map, event)
    # no InputTransformer: the target gets the event itself (not moto's ingestion-time)
    return {name: event[name] for name in ENVELOPE_FIELDS if name in event}


# ---- fix 6 -----------------------------------------------------------------------


@functools.cache
def _moto_modules() -> tuple[str, ...]:
    return tuple(_originals[(moto_backends, "list_of_moto_modules")]())


def _list_of_moto_modules() -> tuple[str, ...]:
    return _moto_modules()


@functools.cache
def _method_names_from_class(clazz: type) -> frozenset[str]:
    return frozenset(_originals[(moto_responses, "method_names_from_class")](clazz))


# ---- apply / revert -----------------------------------------------------------------


_MISSING = object()  # the class had no attribute of that name (revert deletes ours)


def _replace(owner: type, name: str, value: Any) -> None:
    _originals[(owner, name)] = owner.__dict__.get(name, _MISSING)
    setattr(owner, name, value)


def apply() -> None:
    """Patch moto's classes in this process (idempotent). Raises MotoPatchError when
    the installed moto does not match."""
    global _applied
    with _apply_lock:
        if _applied:
            return
        check_compatible()
        _replace(Queue, "_messages", property(_get_messages, _set_messages))
        _replace(Queue, "messages", property(_messages_view))
        _replace(Queue, "attributes", property(_attributes))
        _replace(Queue, "add_message", _add_message)
        _replace(Queue, "delete_message", _queue_delete_message)
        _replace(Queue, "wait_for_messages", _wait_for_messages)
        for name in _LOCKED:
            _replace(SQSBackend, name, _locked(SQSBackend.__dict__[name]))
        for name in _DYNAMODB_WRITES:
            _replace(DynamoDBBackend, name, _atomic(DynamoDBBackend.__dict__[name]))
        _replace(SQSBackend, "receive_message", _receive_message)
        _replace(SQSBackend, "change_message_visibility", _change_message_visibility)
        _replace(Message, "__new__", staticmethod(_untracked_new))
        _replace(Queue, "__new__", staticmethod(_untracked_new))
        _replace(events_utils.EventTemplateParser, "parse", staticmethod(_parse_template))
        _replace(moto_backends, "list_of_moto_modules", _list_of_moto_modules)  # type: ignore[arg-type]
        _replace(moto_responses, "method_names_from_class", _method_names_from_class)  # type: ignore[arg-type]
        _applied = True


def revert() -> None:
    """Undo ``apply()`` (tests). Queues created while patched are unusable afterwards."""
    global _applied
    with _apply_lock:
        if not _applied:
            return
        for (owner, name), value in _originals.items():
            if value is _MISSING:
                delattr(owner, name)
            else:
                setattr(owner, name, value)
        _originals.clear()
        _moto_modules.cache_clear()
        _method_names_from_class.cache_clear()
        _applied = False


def is_applied() -> bool:
    return _applied
