"""The generated module: Python source that builds the imported model from ordinary Keras layers.

The source is the model: `import_tf1_graph` executes it to build `.model`, so the module a user saves
rebuilds exactly the model that was verified. It imports only `keras`, defines `build_model()`, `PREFIX`
(the checkpoint it came from) and `TF1_NAMES` (canonical Keras weight path -> TF1 key, or a transform for
weights such as an LSTM's, see `keras_bridge._transforms`), and keeps its lines within 100 columns.
"""

import keyword
import pprint
import textwrap
import re
from typing import Dict, List

from keras_bridge.importer import _ir

#: How many leading constructor arguments of each class are written positionally.
POSITIONAL = {"Dense": 1, "Conv2D": 2, "Conv2DTranspose": 2, "DepthwiseConv2D": 1, "Embedding": 2,
              "Activation": 1, "Dropout": 1, "Reshape": 1, "Permute": 1, "Rescaling": 1, "LSTM": 1, "GRU": 1,
              "MaxPooling2D": 1, "AveragePooling2D": 1}
WIDTH = 100

_ABS_HELPER = '''

def abs_layer(x, name):
    """|x| from ordinary layers (Keras has no Abs layer): relu(x) + relu(-x), exact."""
    positive = layers.ReLU(name=f"{name}_pos")(x)
    negative = layers.ReLU(name=f"{name}_neg")(layers.Rescaling(-1.0, name=f"{name}_flip")(x))
    return layers.Add(name=name)([positive, negative])
'''


def _identifier(name: str, taken) -> str:
  name = re.sub(r"\W", "_", name)
  if not name or name[0].isdigit() or keyword.iskeyword(name) or name in ("keras", "layers", "np"):
    name = "t_" + name
  base, i = name, 1
  while name in taken:
    name = f"{base}_{i}"
    i += 1
  taken.add(name)
  return name


def _value(v) -> str:
  if isinstance(v, str):
    return f'"{v}"'
  if isinstance(v, float):
    return repr(v)
  if isinstance(v, tuple):
    return "(" + ", ".join(_value(x) for x in v) + ("," if len(v) == 1 else "") + ")"
  return repr(v)


def _constructor(layer: _ir.Layer) -> List[str]:
  items = list(layer.config.items())
  n = POSITIONAL.get(layer.cls, 0)
  args = [_value(v) for _, v in items[:n]] + [f"{k}={_value(v)}" for k, v in items[n:]]
  args.append(f'name="{layer.name}"')
  return args


def _call_line(target: str, head: str, args: List[str], tail: str, indent: str = "    ") -> str:
  one = f"{indent}{target}{head}({', '.join(args)}){tail}"
  if len(one) <= WIDTH:
    return one
  inner = indent + "    "
  lines = [f"{indent}{target}{head}("]
  lines += [f"{inner}{a}," for a in args]
  lines.append(f"{indent}){tail}")
  return "\n".join(lines)


def generate(nodes: List[_ir.Node], outputs: List[_ir.Sym], names: Dict[str, object], *, prefix: str,
             meta: str, model_name: str, output_names: List[str], input_names: List[str] = (),
             feeds: Dict[str, object] = None) -> str:
  """The module's source. `names` is TF1_NAMES; `output_names` the TF1 output tensors, for comments."""
  taken = set()
  var_of = {}
  layer_var = {}
  calls = {}
  for node in nodes:
    if node.layer is not None:
      calls[id(node.layer)] = calls.get(id(node.layer), 0) + 1
  body = []
  uses_abs = False
  for node in nodes:
    if node.layer is None:
      shape, dtype, tf1_name = node.input_spec
      var = _identifier(node.var or tf1_name.split(":")[0], taken)
      var_of[id(node)] = var
      args = [f"shape={_value(tuple(shape[1:]))}"]
      if shape[0] is not None:
        args.append(f"batch_size={shape[0]}")
      if dtype != "float32":
        args.append(f'dtype="{dtype}"')
      args.append(f'name="{var}"')
      body.append(_call_line(f"{var} = ", "keras.Input", args, f"  # {tf1_name}"))
      continue
    layer = node.layer
    inputs = [var_of[id(s.node)] + (f"[{s.index}]" if s.node.n_outputs > 1 else "")
              for s in _ir.input_syms(node)]
    arg = f"[{', '.join(inputs)}]" if isinstance(node.inputs, (list, tuple)) else inputs[0]
    if layer.cls == "Abs":
      uses_abs = True
      var = _identifier(layer.name, taken)
      var_of[id(node)] = var
      body.append(f'    {var} = abs_layer({arg}, "{layer.name}")')
      continue
    kwargs = "".join(f", {k}={_value(v)}" for k, v in node.call_kwargs.items())
    for note in layer.notes if id(layer) not in layer_var else ():
      body += textwrap.wrap(note, WIDTH - 6, initial_indent="    # ", subsequent_indent="    # ")
    if calls[id(layer)] > 1:
      if id(layer) not in layer_var:
        lv = _identifier(layer.name, taken)
        layer_var[id(layer)] = lv
        body.append(_call_line(f"{lv} = ", f"layers.{layer.cls}", _constructor(layer), "  # shared"))
      var = _identifier(layer_var[id(layer)] + "_out", taken)
      body.append(f"    {var} = {layer_var[id(layer)]}({arg}{kwargs})")
    else:
      var = _identifier(layer.name, taken)
      body.append(_call_line(f"{var} = ", f"layers.{layer.cls}", _constructor(layer), f"({arg}{kwargs})"))
    var_of[id(node)] = var
  ins = [var_of[id(n)] for n in nodes if n.layer is None]
  outs = [var_of[id(s.node)] + (f"[{s.index}]" if s.node.n_outputs > 1 else "") for s in outputs]
  body.append(_call_line("return ", "keras.Model", [f"inputs=[{', '.join(ins)}]",
                                                     f"outputs=[{', '.join(outs)}]",
                                                     f'name="{model_name}"'], ""))
  entries = []
  for path, spec in names.items():
    text = pprint.pformat(spec, width=WIDTH - 8, sort_dicts=False).replace("'", '"')
    text = text.replace("\n", "\n        ")
    line = f'    "{path}": {text},'
    entries.append(line if len(line) <= WIDTH else f'    "{path}":\n        {text},')
  names_text = "{\n" + "\n".join(entries) + "\n}"
  outputs_doc = "\n".join(f"    {i}: {n}" for i, n in enumerate(output_names))
  return f'''"""Keras 3 model imported from a TF1 MetaGraph by keras_bridge.import_tf1_graph.

MetaGraph: {_short(meta)}

Outputs, in order (the TF1 tensors they reproduce):
{outputs_doc}

Load the TF1 checkpoint into it:

    model = build_model()
    keras_bridge.load_tf1_checkpoint(model, PREFIX, names=TF1_NAMES)
"""

import keras
from keras import layers

PREFIX = {_string(prefix)}

#: Canonical Keras weight path -> TF1 checkpoint key (or a transform of TF1 keys).
TF1_NAMES = {names_text}
#: The TF1 tensors the model's inputs and outputs stand for, and the feeds fixed for inference.
TF1_INPUTS = {_list(input_names)}
TF1_OUTPUTS = {_list(output_names)}
TF1_FEEDS = {_feeds(feeds or {})}
{_ABS_HELPER if uses_abs else ""}

def build_model():
    """Builds the model with fresh weights; load the TF1 ones with load_tf1_checkpoint."""
{chr(10).join(body)}
'''


def _list(items) -> str:
  one = "[" + ", ".join(_string(i) for i in items) + "]"
  if len(one) < WIDTH - 16:
    return one
  return "[\n" + "".join(f"    {_string(i)},\n" for i in items) + "]"


def _feeds(feeds) -> str:
  items = [f"{_string(k)}: {_value(v.item() if hasattr(v, 'item') else v)}" for k, v in feeds.items()]
  one = "{" + ", ".join(items) + "}"
  return one if len(one) < WIDTH - 16 else "{\n" + "".join(f"    {i},\n" for i in items) + "}"


def _string(text: str) -> str:
  quoted = '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
  return quoted if len(quoted) < WIDTH - 10 else f"(\n    {quoted}\n)"


def _short(path: str) -> str:
  return path if len(path) <= 85 else "..." + path[-82:]
