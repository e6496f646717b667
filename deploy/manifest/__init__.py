"""Reading a wskdeploy manifest into inert models, with every problem located.

``loader`` walks project and packages; ``entities`` and ``fields`` parse one entry;
``schema`` knows the keys; ``interpolation`` and ``yamlsource`` turn bytes into
lined YAML. No network, no zipping.
"""
