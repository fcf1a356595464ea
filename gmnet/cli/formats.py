"""Commands that move networks between gmnet and other tools: export, import."""

from __future__ import annotations

from pathlib import Path

import click

from gmnet.cli.common import Options, echo, emit_json, network_options
from gmnet.errors import InvalidArgumentError
from gmnet.io.atomic import check_destination

FORMAT_CHOICES = click.Choice(["bif", "xmlbif", "net", "xdsl", "uai"])
READ_FORMAT_CHOICES = click.Choice(["bif", "xmlbif", "net", "xdsl", "dsl", "dne", "uai"])


@click.command("export")
@click.option("--format", "fmt", type=FORMAT_CHOICES, default=None,
              help="File format (default: from the extension of --out: .bif, .xml/.xmlbif, "
                   ".net, .xdsl, .uai).")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False),
              help="The file to write (replaced if it exists).")
@click.option("--no-sidecar", is_flag=True,
              help="Do not write FILE.gmnet.json (ranges, sources, expressions, labels).")
@network_options
def export_command(fmt: str | None, out: str, no_sidecar: bool, opts: Options) -> None:
    """Write the network, at its point values, for another tool.

    BIF and XMLBIF (pgmpy, bnlearn, pyAgrum, Weka), NET (Hugin; GeNIe and Netica import it),
    XDSL (GeNIe, SMILE) and UAI (inference solvers). What the format cannot hold goes to
    FILE.gmnet.json beside it; `gmnet import FILE` reads both back.
    """
    from gmnet.io.formats import export_network

    net, evidence = opts.setup()
    result = export_network(net, out, format=fmt, sidecar=not no_sidecar, evidence=evidence)
    if opts.json:
        emit_json({"network": net.name, **result.to_dict(), "evidence": evidence})
        return
    echo(f"wrote {result.path} ({result.format}, {len(net.variables)} nodes, point values)")
    if result.sidecar is not None:
        echo(f"wrote {result.sidecar} (parameters with ranges and sources, CPT expressions, "
             "labels, targets)")
    for warning in result.warnings:
        echo(f"note: {warning}")
    for var, renamed in result.renamed_states.items():
        pairs = ", ".join(f"{a} -> {b}" for a, b in renamed.items())
        echo(f"note: states of {var} renamed for {result.format}: {pairs}"
             + (" (the sidecar restores them)" if result.sidecar else ""))
    if evidence:
        echo("note: the scenario's observations (" +
             ", ".join(f"{k}={v}" for k, v in evidence.items()) +
             ") are not part of the network file" +
             ("; they are recorded in the sidecar" if result.sidecar else ""))


@click.command("import")
@click.argument("file", required=False, type=click.Path(dir_okay=False))
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False),
              help="The gmnet YAML file to write, e.g. networks/NAME.yaml.")
@click.option("--format", "fmt", type=READ_FORMAT_CHOICES, default=None,
              help="Format of FILE (default: from its extension: .bif, .xml/.xmlbif/.bifxml, "
                   ".net, .xdsl, .dsl, .dne, .uai).")
@click.option("--name", default=None, help="The network's name (default: from the file name).")
@click.option("--classic", default=None, metavar="NAME",
              help="Instead of FILE, one of the classic networks bundled with pgmpy "
                   "(asia, sachs, child, insurance, alarm, ...).")
@click.option("--cpt-ranges", "cpt_ranges", type=float, default=None, metavar="FRACTION",
              help="Turn every CPT entry into a parameter with a uniform range of +-FRACTION "
                   "(0.2 = +-20%), each row renormalised, for the uncertainty analyses.")
@click.option("--no-sidecar", is_flag=True, help="Ignore FILE.gmnet.json if it exists.")
@click.option("--edited", is_flag=True,
              help="FILE was changed on purpose in another tool after its sidecar was written: "
                   "its tables win (an import note says so). Without it, a file that does not "
                   "match its sidecar's recorded hash is an error.")
@click.option("--force", is_flag=True, help="Replace --out if it exists.")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
def import_command(file: str | None, out: str, fmt: str | None, name: str | None,
                   classic: str | None, cpt_ranges: float | None, no_sidecar: bool,
                   edited: bool, force: bool, as_json: bool) -> None:
    """Convert a BIF, XMLBIF, NET, XDSL, DSL, DNE or UAI file into a gmnet network file.

    The YAML it writes has one table per node, a row per parent configuration (commented with
    it), so that ranges and sources can be added by hand. With the sidecar that `gmnet export`
    wrote, the original network (parameters, expressions, labels) comes back instead.
    """
    from gmnet.io.formats import import_network
    from gmnet.io.yaml_writer import write_network_yaml

    if (file is None) == (classic is None):
        raise InvalidArgumentError("give either FILE or --classic NAME")
    if file is not None and Path(file).suffix.lower() in (".yaml", ".yml"):
        raise InvalidArgumentError(f"{file} is already a gmnet network file; check it with "
                                   "`gmnet validate` or use it with --network")
    target = Path(out)
    if target.suffix.lower() not in (".yaml", ".yml"):
        raise InvalidArgumentError(f"--out {out}: a gmnet network file ends in .yaml")
    if target.exists() and not force:
        raise InvalidArgumentError(f"--out {out} exists; add --force to replace it")
    if file is not None:
        from gmnet.model.inputs import note_input

        note_input(file, with_sidecar=not no_sidecar)  # --out may not replace it (via links)
    check_destination(target)  # before the import, which can take a while
    if classic is not None:
        from gmnet.io.classic import classic_network

        net = classic_network(classic)
        origin = f"pgmpy's bundled {classic}.bif"
        if name is not None:
            from gmnet.io.yaml_writer import spec_dict
            from gmnet.model.network import network_from_dict

            net = network_from_dict({**spec_dict(net), "name": name}, path=net.path)
    else:
        net = import_network(file, format=fmt, sidecar=not no_sidecar, name=name,
                             edited=edited)
        origin = Path(file).name
    if cpt_ranges is not None:
        from gmnet.io.ranges import with_uniform_cpt_ranges

        net = with_uniform_cpt_ranges(net, cpt_ranges)
    header = (f"{net.title}: imported from {origin} by `gmnet import`.\n"
              "Each table row is one parent configuration (the comment names it); add ranges\n"
              "and sources by turning rows into parameters (docs/networks.md).")
    write_network_yaml(net, target, header=header)
    notes = net.metadata.get("import_notes", [])
    if as_json:
        emit_json({"network": net.name, "out": str(target), "nodes": len(net.variables),
                   "parameters": len(net.parameters), "notes": notes})
        return
    echo(f"wrote {target} ({len(net.variables)} nodes, {len(net.parameters)} parameters)")
    for note in notes:
        echo(f"note: {note}")


COMMANDS = [export_command, import_command]
