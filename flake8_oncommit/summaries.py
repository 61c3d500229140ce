"""What the project index records about a module: data only.

Kept apart from :mod:`.index` so that the analysis can produce summaries
and the recognisers can read them without importing the index machinery.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

#: Bumped whenever what a summary records changes: cached summaries of an
#: older format are recomputed.
SUMMARY_FORMAT = 14


@dataclass(frozen=True)
class FunctionSummary:
    """What one module-level function is, for code that calls it."""

    #: it runs its caller's code in an atomic block (context manager or decorator)
    wrapper: bool = False
    #: the wrapped block's database alias, when a literal
    wrapper_using: str | None = None
    #: ... or the wrapper's parameter that names it (keyword, position), and
    #: whether it has a default: a literal alias (None: the default database)
    wrapper_using_parameter: str | None = None
    wrapper_using_position: int | None = None
    wrapper_using_optional: bool = False
    wrapper_using_default: str | None = None
    #: ... or chosen inside the wrapper where a call site cannot repeat it
    wrapper_using_unknown: bool = False
    #: a task/actor kind (a :class:`~.queues.Kind` value: huey, dramatiq, rq,
    #: celery, django, procrastinate, transactional)
    task: str | None = None
    #: its jobs are rows written through Django's connection to this database
    task_row_alias: str | None = None
    #: its first enqueue outside any atomic block and not deferred
    enqueue: str | None = None
    #: it hands a callable parameter to on_commit
    deferrer: bool = False
    #: project functions it calls (absolute names)
    calls: tuple[str, ...] = ()
    #: its whole body runs in an atomic block (its enqueues are reported in it)
    covered: bool = False
    #: where it is defined, and its enqueue (1-based lines; 0: not recorded)
    line: int = 0
    enqueue_line: int = 0
    #: its first call of each kind of side effect (mail, cache, http...), made
    #: anywhere in it: (kind, the call described, its line)
    effects: tuple[tuple[str, str, int], ...] = ()
    #: for guards (:mod:`.guards`): the parameters all its own enqueues wait on (``if notify:``),
    #: each call it makes to a project function (its name, and what it passes:
    #: :meth:`~.guards.CallShape.encode`), the parameters a call passes positionally
    #: (``self``/``cls`` left out), and those whose default is falsy
    enqueue_guard: tuple[str, ...] = ()
    call_guards: tuple[tuple[str, str], ...] = ()
    parameters: tuple[str, ...] = ()
    off_by_default: tuple[str, ...] = ()


@dataclass(frozen=True)
class ClassSummary:
    """What one module-level class is, for method look-ups from other modules."""

    #: where its ``class`` statement is (1-based; 0: not recorded)
    line: int = 0
    #: its bases of other project modules (absolute names), reached through
    #: the bases of the same module too, in look-up order
    bases: tuple[str, ...] = ()
    #: every method it defines or inherits from classes of the same module
    methods: tuple[str, ...] = ()


@dataclass
class ModuleSummary:
    functions: dict[str, FunctionSummary] = field(default_factory=dict)
    #: module-level names imported from elsewhere: name -> absolute qualified name
    aliases: dict[str, str] = field(default_factory=dict)
    #: module-level classes deriving from a Django/DRF/ninja view (their
    #: subclasses elsewhere are views too)
    view_classes: tuple[str, ...] = ()
    #: module-level classes whose views run outside ATOMIC_REQUESTS (``non_atomic_requests``
    #: on the class, its ``dispatch``, what its ``as_view`` returns, or a base's)
    non_atomic_views: tuple[str, ...] = ()
    #: module-level Celery task classes whose ``apply_async`` waits for the commit
    commit_aware_task_bases: tuple[str, ...] = ()
    #: modules it re-exports with ``from x import *`` (absolute names), in order
    star_modules: tuple[str, ...] = ()
    #: signal receivers it registers (``@receiver``, ``signal.connect``): (signal key,
    #: sender key, the handler's absolute name), keys as in :mod:`.model_signals`
    receivers: tuple[tuple[str, str, str], ...] = ()
    #: module-level classes: where, their bases elsewhere in the project, their methods
    classes: dict[str, ClassSummary] = field(default_factory=dict)

    def to_json(self) -> dict[str, object]:
        return {
            "functions": {name: asdict(summary) for name, summary in self.functions.items()},
            "aliases": self.aliases,
            "view_classes": list(self.view_classes),
            "non_atomic_views": list(self.non_atomic_views),
            "commit_aware_task_bases": list(self.commit_aware_task_bases),
            "star_modules": list(self.star_modules),
            "receivers": [list(receiver) for receiver in self.receivers],
            "classes": {name: asdict(found) for name, found in self.classes.items()},
        }

    @classmethod
    def from_json(cls, data: dict[str, object]) -> ModuleSummary:
        functions = data.get("functions", {})
        aliases = data.get("aliases", {})
        view_classes = data.get("view_classes", [])
        non_atomic = data.get("non_atomic_views", [])
        bases = data.get("commit_aware_task_bases", [])
        stars = data.get("star_modules", [])
        receivers = data.get("receivers", [])
        assert isinstance(receivers, list)
        classes = data.get("classes", {})
        assert isinstance(functions, dict) and isinstance(aliases, dict)
        assert isinstance(view_classes, list) and isinstance(bases, list) and isinstance(non_atomic, list)
        assert isinstance(classes, dict)
        return cls(
            functions={
                name: FunctionSummary(
                    **{
                        **value,
                        "calls": tuple(value.get("calls", ())),
                        "effects": tuple(tuple(effect) for effect in value.get("effects", ())),
                        "enqueue_guard": tuple(value.get("enqueue_guard", ())),
                        "call_guards": tuple(tuple(call) for call in value.get("call_guards", ())),
                        "parameters": tuple(value.get("parameters", ())),
                        "off_by_default": tuple(value.get("off_by_default", ())),
                    }
                )
                for name, value in functions.items()
            },
            aliases=dict(aliases),
            view_classes=tuple(view_classes),
            non_atomic_views=tuple(non_atomic),
            commit_aware_task_bases=tuple(bases),
            star_modules=tuple(str(name) for name in stars) if isinstance(stars, list) else (),
            receivers=tuple(
                (str(signal), str(sender), str(handler)) for signal, sender, handler in receivers
            ),
            classes={
                name: ClassSummary(
                    line=int(value.get("line", 0)),
                    bases=tuple(value.get("bases", ())),
                    methods=tuple(value.get("methods", ())),
                )
                for name, value in classes.items()
            },
        )
