"""Reading a wskdeploy manifest into inert models, with every problem located.

``loader`` walks project and packages; ``entities``, ``fields`` and ``bindings`` (a
package's dependencies) parse one entry; ``deployment`` binds a deployment file onto
the result; ``schema`` knows the keys; ``interpolation`` and ``yamlsource`` turn bytes
into lined YAML. No network, no zipping.
"""
