"""The annotators' guideline: its default text and a safe Markdown-lite rendering.

The text is the organizer's, so it is never trusted as HTML: every line is escaped, and
only four marks mean something: `# ` and `## ` start a heading, `- ` a list item, and a
blank line ends a paragraph (single line breaks are kept).
"""

from __future__ import annotations

from django.utils.html import escape, format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

# The English text of the 0-3 protocol's evaluation method, score definitions and
# reference examples (/work/shared/seeds/protocol-0-3-vla-evaluator.txt).
DEFAULT_GUIDELINE_EN = """\
# How to rate

Watch the reference video (the real robot, the ground truth) and the generated video \
side by side. Use the reference as the baseline and decide whether the generated video \
is consistent with it in outcome: both should show success, or both should show failure.

Give each generated video a score from 0 to 3.

# Score definitions and examples

## 3 points

Action matches the reference; final object state matches; no obvious object \
deformation during the episode; physics and collisions look plausible.

- Example: reference, insert the ear into the box. The evaluated video also completes \
the insertion without noticeable deformation: 3.

## 2 points

Final object state matches the reference, but there is visible deformation, \
unrealistic physics or collisions, or motion inconsistency during the trajectory.

- Example A: reference, place the banana in the basket. The evaluated video ends with \
the banana in the basket (state OK), but the banana deforms during the process: 2.
- Example B: reference, banana not placed in the basket. The evaluated video also ends \
with failure (consistent outcome), but objects deform or interact unnaturally: 2.

## 1 point

Robot motion is broadly aligned with the reference, but the final object state \
disagrees with the reference (such as a success vs failure mismatch, or an object \
disappearing).

- Example A: reference, banana not in the basket. The evaluated video ends with the \
banana in the basket (wrong outcome), while the arm motion still resembles the \
reference: 1.
- Example B: reference, banana in the basket. The evaluated video shows grasping, but \
the banana disappears from the basket at the end (wrong state) while the arm motion \
looks normal: 1.

## 0 points

Action and object state both disagree with the reference. Also: severely chaotic \
visuals, arm motion incoherent with the reference, and an inconsistent final state.
"""


# The same in Simplified Chinese, in the protocol's own Chinese wording.
DEFAULT_GUIDELINE_ZH_HANS = """\
# 评测方法

播放视频，以参考视频（真机，GT）为基准，判断生成视频与参考视频在结果意义上是否一致\
（是否都为成功或都为失败）。

每条待评视频记 0～3 分。

# 分数含义与参考示例

## 3 分

与参考视频动作一致，物体最终状态一致，过程中物体无明显形变，物理与碰撞无明显异常。

- 示例（3 分）：参考：将耳朵插入盒子。待评视频同样完成插入且过程无明显形变 → 3 分。

## 2 分

最终物体状态与参考一致，但过程中出现物体形变、物理或碰撞不真实，或与参考动作不一致。

- 示例 A(2 分)：参考：香蕉放入篮子。待评视频最终香蕉在篮中（状态一致），\
但过程中香蕉发生形变 → 2 分。
- 示例 B(2 分)：参考：香蕉未放入篮子。待评视频最终也未放入（状态一致），\
但过程中香蕉与其他物体发生形变 → 2 分。

## 1 分

机械臂整体动作与参考基本一致，但最终物体状态与参考不一致，如成功与失败状态不一致、\
物体消失等情形。

- 示例 A(1 分)：参考：香蕉未在篮中。待评视频最终香蕉在篮中（状态不符），\
但整体动作与参考相近 → 1 分。
- 示例 B(1 分)：参考：香蕉在篮中。待评视频虽有抓取，但最终香蕉在篮中消失（状态不符），\
机械臂动作大体正常 → 1 分。

## 0 分

动作与物体状态均与参考不一致；或画面混乱、机械臂动作与参考严重不符且最终状态也不一致等情形。
"""
DEFAULT_GUIDELINES = {"en": DEFAULT_GUIDELINE_EN, "zh-hans": DEFAULT_GUIDELINE_ZH_HANS}


def _paragraph(lines: list[str]) -> SafeString:
    return format_html("<p>{}</p>", mark_safe("<br>".join(escape(line) for line in lines)))


def render_guideline(text: str) -> SafeString:
    """The guideline as HTML built only from escaped text and a few fixed tags."""
    blocks: list[SafeString] = []
    paragraph: list[str] = []
    items: list[str] = []

    def flush() -> None:
        if paragraph:
            blocks.append(_paragraph(paragraph))
            paragraph.clear()
        if items:
            blocks.append(
                format_html(
                    "<ul>{}</ul>", format_html_join("", "<li>{}</li>", ((i,) for i in items))
                )
            )
            items.clear()

    for raw in text.replace("\r\n", "\n").split("\n"):
        line = raw.strip()
        if line.startswith(("# ", "## ")):
            flush()
            tag = "h3" if line.startswith("## ") else "h2"
            blocks.append(format_html("<{0}>{1}</{0}>", tag, line.lstrip("#").strip()))
        elif line.startswith("- "):
            if paragraph:
                flush()
            items.append(line[2:].strip())
        elif not line:
            flush()
        else:
            if items:
                flush()
            paragraph.append(line)
    flush()
    return mark_safe("\n".join(blocks))
