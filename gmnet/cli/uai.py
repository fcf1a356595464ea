"""``gmnet uai``: answer a UAI competition task (MAR or PR) for a .uai model and .evid file."""

from __future__ import annotations

from pathlib import Path

import click

from gmnet.cli.common import echo
from gmnet.errors import InvalidArgumentError, NetworkFileError


@click.command("uai")
@click.argument("model", type=click.Path(dir_okay=False))
@click.option("--evid", "evid", type=click.Path(dir_okay=False), default=None,
              help="A UAI evidence file (default: MODEL.evid if it exists, else none).")
@click.option("--task", type=click.Choice(["MAR", "PR"], case_sensitive=False), default="MAR",
              show_default=True, help="MAR: every variable's posterior marginal; PR: log10 of "
                                      "the probability of the evidence.")
@click.option("--out", "out", type=click.Path(dir_okay=False), default=None,
              help="Write the answer file here (default: print it).")
@click.option("--check", "check", type=click.Path(dir_okay=False), default=None,
              help="A published answer file to compare with: prints the largest difference.")
def uai_command(model: str, evid: str | None, task: str, out: str | None,
                check: str | None) -> None:
    """Answer a UAI competition task exactly, in the competition's answer format.

    MODEL is a BAYES file (or a MARKOV file whose factors are a Bayesian network's tables).
    The answer is gmnet's exact inference (min-fill variable elimination, rescaled so that no
    product underflows), on the file's tables as written.
    """
    from gmnet.inference.marginals import all_marginals, log_evidence
    from gmnet.io.atomic import check_destination, write_text
    from gmnet.io.importing import read_model
    from gmnet.io.parsed import FileFormatError
    from gmnet.io.uai_answers import indexed, log10, mar_text, parse_answer, parse_evidence, pr_text

    path = Path(model)
    compiled, _, _ = read_model(path, "uai")
    names = [f"v{i}" for i in range(len(compiled.variables))]
    cards = [compiled.card(v) for v in names]
    evid_path = Path(evid) if evid else (path.with_name(path.name + ".evid")
                                          if path.with_name(path.name + ".evid").is_file()
                                          else None)
    evidence: dict[str, int] = {}
    if evid_path is not None:
        if not evid_path.is_file():
            raise InvalidArgumentError(f"no such evidence file: {evid_path}")
        try:
            evidence = indexed(parse_evidence(evid_path.read_text(encoding="utf-8"), cards),
                               names)
        except (FileFormatError, UnicodeDecodeError) as exc:
            raise NetworkFileError(str(evid_path), [str(exc)]) from None
    if out is not None:
        if Path(out).resolve() in {path.resolve(), *([evid_path.resolve()] if evid_path else [])}:
            raise InvalidArgumentError(f"--out {out} is one of the inputs; name another file")
        check_destination(Path(out))
    task = task.upper()
    if task == "PR":
        value = log10(log_evidence(compiled, evidence)) if evidence else 0.0
        text = pr_text(value)
        answer: object = value
    else:
        answer = all_marginals(compiled, evidence)
        text = mar_text(answer)
    if out is None:
        click.echo(text, nl=False)
    else:
        write_text(Path(out), text)
        echo(f"wrote {out} ({task}, {len(names)} variables, {len(evidence)} observed)")
    if check is not None:
        try:
            kind, published = parse_answer(Path(check).read_text(encoding="utf-8"))
        except (FileFormatError, UnicodeDecodeError, OSError) as exc:
            raise InvalidArgumentError(f"--check {check}: {exc}") from None
        if kind != task:
            raise InvalidArgumentError(f"--check {check} is a {kind} answer; the task is {task}")
        if task == "PR":
            diff = abs(float(published) - float(answer))
        else:
            if len(published) != len(answer) or any(
                    len(a) != len(b) for a, b in zip(published, answer, strict=False)):
                raise InvalidArgumentError(f"--check {check}: its variables or cardinalities "
                                           "differ from the model's")
            diff = max(float(abs(a - b).max()) for a, b in zip(published, answer, strict=True))
        echo(f"largest difference from {Path(check).name}: {diff:.3g}"
             + (" (log10 P(evidence))" if task == "PR" else " (marginal probability)"),
             err=out is None)


COMMANDS = [uai_command]
