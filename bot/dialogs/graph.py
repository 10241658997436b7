"""The flows as Mermaid flowcharts, for admins to see what they edit."""

from __future__ import annotations

from bot.dialogs.model import DialogSet


def flows_mermaid(dialogs: DialogSet) -> str:
    blocks: list[str] = []
    for flow in dialogs.flows.values():
        lines = ["---", f"Flow: {flow.id}", "---", "flowchart TD"]
        for step in flow.steps.values():
            lines.append(f'  {flow.id}_{step.id}["{step.id} ({step.kind})"]')
        for step in flow.steps.values():
            following = flow.following(step)
            if step.choices:
                for choice in step.choices:
                    target = choice.next or following
                    if target:
                        lines.append(f"  {flow.id}_{step.id} -->|{choice.value}| {flow.id}_{target}")
            else:
                for branch in step.branches:
                    lines.append(f"  {flow.id}_{step.id} -->|if| {flow.id}_{branch.next}")
                if following:
                    lines.append(f"  {flow.id}_{step.id} --> {flow.id}_{following}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)
