"""SageMaker pipeline definitions for advsynth (MLOps project-template layout).

``pipelines.adversarial.pipeline.get_pipeline`` builds the adversarial evaluation
pipeline; ``pipelines.get_pipeline_definition`` prints it offline,
``pipelines.deploy`` creates/starts/schedules it and ``pipelines.run_pipeline``
runs it in SageMaker local mode. No data logic lives here: the steps only wire
containers together (the containers run ``advsynth``).
"""
