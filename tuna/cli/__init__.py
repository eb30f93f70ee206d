"""The `tuna` command: one subcommand per pipeline stage, parsing its options and calling into the
package; each reads explicit input paths, writes explicit output paths and knows nothing of Snakemake."""

import importlib

import click

import tuna

# Modules under tuna/cli/ that define a COMMANDS list, in the order of the pipeline.
COMMAND_MODULES = ["data", "models", "prob_rank", "ctx_rank", "prm", "preferences", "train", "evaluate", "held_out"]


class PipelineGroup(click.Group):
    """Lists subcommands in pipeline order (the order they are registered), not alphabetically."""

    def list_commands(self, ctx):
        return list(self.commands)


@click.group(cls=PipelineGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(tuna.__version__, prog_name="tuna")
def main():
    """Tuna: instruction tuning with probabilistic and contextual ranking (arXiv 2310.13385).

    Each subcommand is one stage of the pipeline. The Snakemake workflow
    (`snakemake --cores all`) chains them; run one by hand to inspect a stage.
    """


for _name in COMMAND_MODULES:
    for _command in importlib.import_module(f"tuna.cli.{_name}").COMMANDS:
        main.add_command(_command)
